"""`python -m apps.runtime.settings_doc <service>`: print the settings table for the service README."""

from __future__ import annotations

import importlib
import sys

from apps.runtime.config import COMMON_SETTINGS, settings_table


def main() -> int:
    service = sys.argv[1]
    module = importlib.import_module(f"apps.{service}.app")
    print(settings_table(service, (*COMMON_SETTINGS, *module.SETTINGS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
