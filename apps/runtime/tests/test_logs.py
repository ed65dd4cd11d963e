"""JSON log lines: the access line's fast path matches what the logging formatter writes, and is flushed."""

from __future__ import annotations

import io
import json
import logging
import os
import time

from apps.localdeps.process import wait_for
from apps.runtime.logs import AccessLog, JsonFormatter


def formatted(service: str, **fields: object) -> dict:
    record = logging.LogRecord("peakshop.access", logging.INFO, __file__, 0, "request", (), None)
    record.__dict__.update(fields)
    return json.loads(JsonFormatter(service).format(record))


def test_access_line_has_the_formatters_shape():
    buf = io.StringIO()
    access = AccessLog("catalog", buf)
    fields = {"request_id": "edge-7f3a.1", "method": "GET", "route": '/api/"odd"/<int:id>', "status": 404}
    access.write(**fields, duration_ms=1.5)
    access.write("BREW", "/x", 405, 0.25, "r2")  # an unusual method is still valid JSON
    first, second = (json.loads(line) for line in buf.getvalue().splitlines())
    expected = formatted("catalog", **fields, duration_ms=1.5)
    assert list(first) == list(expected)
    assert {k: v for k, v in first.items() if k != "ts"} == {k: v for k, v in expected.items() if k != "ts"}
    assert abs(time.mktime(time.strptime(first["ts"][:19], "%Y-%m-%dT%H:%M:%S")) - time.mktime(time.gmtime())) < 5
    assert second["method"] == "BREW" and second["status"] == 405


def test_access_lines_reach_the_file_without_a_flush_per_line(tmp_path):
    path = tmp_path / "access.log"
    with open(path, "w", buffering=1 << 20) as stream:  # a large buffer: only an explicit flush writes it out
        access = AccessLog("catalog", stream, flush_s=0.2)
        access.write("GET", "/healthz", 200, 0.1, "r1")
        wait_for(lambda: path.read_text().count("\n") == 1, "the flusher", 5)
        assert os.path.getsize(path) > 0


def test_the_access_logger_level_switches_it_off():
    access = AccessLog("catalog", io.StringIO())
    logger = logging.getLogger("peakshop.access")
    old = logger.level
    try:
        logger.setLevel(logging.WARNING)
        assert not access.enabled
        logger.setLevel(logging.INFO)
        assert access.enabled
    finally:
        logger.setLevel(old)
