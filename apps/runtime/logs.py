"""One JSON object per log line, carrying the request ID, so logs from every service join up in CloudWatch."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from flask import g, has_request_context

_encode = json.JSONEncoder(default=str).encode  # json.dumps(default=...) builds a new encoder per call
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Lean on purpose: it runs for every request's access line."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service
        self._second = -1
        self._stamp = ""

    def _timestamp(self, created: float) -> str:
        second = int(created)
        if second != self._second:  # strftime once per second, not per line
            self._second, self._stamp = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._stamp}.{int((created - second) * 1000):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self._timestamp(record.created),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = record.__dict__
        if "request_id" not in fields and has_request_context():  # the access log passes it in (no proxy lookup)
            rid = getattr(g, "request_id", None)
            if rid:
                entry["request_id"] = rid
        for key, value in fields.items():
            if key not in _RESERVED and key[0] != "_":
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return _encode(entry)


def configure(service: str, level: str) -> None:
    """Route the root logger to stdout as JSON (idempotent: a second app in one process reuses it)."""
    logging.logMultiprocessing = False  # processName lookups cost more than they tell (pid is kept)
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_peakshop", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stdout)
        handler._peakshop = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter(service))
    root.setLevel(level)
