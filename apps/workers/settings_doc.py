"""`python -m apps.workers.settings_doc`: print the settings tables of every worker workload for
apps/workers/README.md (generated from the code; apps/workers/tests/test_docs.py keeps the README current)."""

from __future__ import annotations

import sys

from apps.runtime.config import Setting, settings_table
from apps.workers.__main__ import EXTRA_SETTINGS
from apps.workers.config import AWS_SETTINGS, BROKER_SETTINGS, queue_settings
from apps.workers.relay import NAME as RELAY
from apps.workers.relay import SETTINGS as RELAY_SETTINGS


def specs(name: str) -> tuple[Setting, ...]:
    extra = RELAY_SETTINGS if name == RELAY else EXTRA_SETTINGS[name]
    return (*AWS_SETTINGS, *BROKER_SETTINGS, *queue_settings(name), *extra)


def tables() -> str:
    names = (RELAY, *EXTRA_SETTINGS)
    return "\n\n".join(f"### {name}\n\n{settings_table(name, specs(name))}" for name in names)


if __name__ == "__main__":
    print(tables())
    sys.exit(0)
