"""Liveness and readiness. Readiness turns 503 as soon as SIGTERM arrives (the flag lives in shared memory
created before gunicorn forks, so every worker sees it), letting the load balancer drain the pod before
gunicorn stops accepting connections. Redis and the replica are reported but do not fail readiness: the
service degrades to the writer without them, and pulling every pod out at once would turn a partial
outage into a total one."""

from __future__ import annotations

import multiprocessing
from typing import Any

DRAINING = multiprocessing.Value("b", 0, lock=False)


def start_draining() -> None:
    DRAINING.value = 1


def is_draining() -> bool:
    return bool(DRAINING.value)


def readiness(db_status: dict[str, bool], cache_ok: bool) -> tuple[int, dict[str, Any]]:
    checks = {**{f"db_{k}": v for k, v in db_status.items()}, "cache": cache_ok}
    if is_draining():
        return 503, {"status": "draining", "checks": checks}
    if not any(db_status.values()):
        return 503, {"status": "database unreachable", "checks": checks}
    return 200, {"status": "ready", "checks": checks}
