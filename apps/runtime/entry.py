"""Process entry: build a service app or exit with the configuration problem stated plainly (no traceback)."""

from __future__ import annotations

import importlib
import sys

from flask import Flask

from apps.runtime.config import ConfigError

CONFIG_EXIT_STATUS = 4


def load(module: str) -> Flask:
    try:
        app: Flask = importlib.import_module(module).create_app()
    except ConfigError as exc:
        print(f"{module}: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(CONFIG_EXIT_STATUS) from None
    return app
