"""One JSON object per log line, carrying the request ID, so logs from every service join up in CloudWatch."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

from flask import g, has_request_context

from apps.runtime.process_thread import ProcessThread

_encode = json.JSONEncoder(default=str).encode  # json.dumps(default=...) builds a new encoder per call
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class _Timestamps:
    def __init__(self) -> None:
        self._second = -1
        self._stamp = ""

    def __call__(self, created: float) -> str:
        second = int(created)
        if second != self._second:  # strftime once per second, not per line
            self._second, self._stamp = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._stamp}.{int((created - second) * 1000):03d}Z"


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service
        self._timestamp = _Timestamps()

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


class AccessLog:
    """The per-request access line, in JsonFormatter's shape, written without a LogRecord or a Formatter and
    flushed by a daemon thread at least every `flush_s` instead of once per line (like nginx's `access_log ...
    flush=1s`): it runs on every request, and those steps (about 35 us and a write per line) were a measurable
    share of a cached product read. A SIGKILLed process may lose its last second of access lines; errors still go
    through logging, unbuffered.
    The `peakshop.access` logger's level still switches it on and off."""

    _METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

    def __init__(self, service: str, stream: TextIO | None = None, flush_s: float = 1.0) -> None:
        self.stream = stream or sys.stdout
        self.flush_s = flush_s
        self._logger = logging.getLogger("peakshop.access")
        self._head = f'", "level": "INFO", "service": {_encode(service)}, "logger": "peakshop.access", "msg": "request"'
        self._methods = {m: _encode(m) for m in self._METHODS}
        self._routes: dict[str, str] = {}
        self._timestamp = _Timestamps()
        self._lock = threading.Lock()
        self._dirty = False
        self._flusher = ProcessThread("access-log-flush", self._flush_every, lambda: None)

    @property
    def enabled(self) -> bool:
        return self._logger.isEnabledFor(logging.INFO)

    def write(self, method: str, route: str, status: int, duration_ms: float, request_id: str) -> None:
        """`route` is an app URL rule (a small fixed set, encoded once); `request_id` is one the factory checked or
        generated (letters, digits and ._:- only, nothing JSON escapes)."""
        encoded_route = self._routes.get(route)
        if encoded_route is None:
            encoded_route = self._routes[route] = _encode(route)
        encoded_method = self._methods.get(method) or _encode(method)
        line = (
            f'{{"ts": "{self._timestamp(time.time())}{self._head}, "request_id": "{request_id}", "method": '
            f'{encoded_method}, "route": {encoded_route}, "status": {status}, "duration_ms": {duration_ms}}}\n'
        )
        self._flusher.ensure()
        with self._lock:
            self.stream.write(line)
            self._dirty = True

    def flush(self) -> None:
        with self._lock:
            if self._dirty:
                self._dirty = False
                self.stream.flush()

    def _flush_every(self, current: Callable[[], bool]) -> None:
        while current():
            time.sleep(self.flush_s)
            self.flush()
