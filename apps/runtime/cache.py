"""Redis cache-aside. Keys carry a format version (so old and new code never read each other's values during
a rolling deploy), TTLs are jittered (no synchronized expiry), a miss takes a short Redis lock so one process
loads while others wait briefly (stampede protection), writes invalidate explicitly, and any Redis failure
degrades to the loader: a cache outage costs latency, never errors."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from typing import Any

import redis

from apps.runtime.metrics import Metrics

log = logging.getLogger("peakshop.cache")
REDIS_ERRORS = (redis.RedisError, OSError)
_MISSING = object()


class Cache:
    def __init__(
        self,
        url: str,
        service: str,
        metrics: Metrics,
        ttl_s: int,
        timeout_s: float,
        retry_after_s: float,
        format_version: int = 1,
        lock_wait_s: float = 0.2,
    ) -> None:
        self.client = redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, health_check_interval=0
        )
        self.prefix = f"{service}:v{format_version}"
        self.metrics = metrics
        self.ttl_s = ttl_s
        self.retry_after_s = retry_after_s
        self.lock_wait_s = lock_wait_s
        self._down_until = 0.0

    def key(self, *parts: object) -> str:
        return ":".join([self.prefix, *map(str, parts)])

    def jittered(self, ttl: int | None = None) -> int:
        base = ttl or self.ttl_s
        return max(1, round(base * random.uniform(0.9, 1.1)))

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, exc: BaseException) -> None:
        self._down_until = time.monotonic() + self.retry_after_s
        self.metrics.count_cache("error")
        log.warning("redis unavailable, serving from the database", extra={"error": str(exc)})

    def get_or_load(self, key: str, loader: Callable[[], Any], ttl: int | None = None) -> Any:
        """Cached JSON value for `key`, loading and storing it on a miss. A loader returning None is not cached."""
        if not self.available:
            self.metrics.count_cache("bypass")
            return loader()
        try:
            raw = self.client.get(key)
            if raw is not None:
                self.metrics.count_cache("hit")
                return json.loads(raw)
            self.metrics.count_cache("miss")
            lock_key = key + ":lock"
            if not self.client.set(lock_key, b"1", nx=True, px=max(100, int(self.lock_wait_s * 5000))):
                waited = self._wait_for(key)
                if waited is not _MISSING:
                    return waited
            value = loader()
            if value is not None:
                pipe = self.client.pipeline(transaction=False)
                pipe.set(key, json.dumps(value, separators=(",", ":")), ex=self.jittered(ttl))
                pipe.delete(lock_key)
                pipe.execute()
            else:
                self.client.delete(lock_key)
            return value
        except REDIS_ERRORS as exc:
            self._failed(exc)
            return loader()

    def _wait_for(self, key: str) -> Any:
        deadline = time.monotonic() + self.lock_wait_s
        while time.monotonic() < deadline:
            time.sleep(0.01)
            raw = self.client.get(key)
            if raw is not None:
                self.metrics.count_cache("coalesced")
                return json.loads(raw)
        return _MISSING

    def invalidate(self, *keys: str) -> None:
        """Delete keys after a committed write. Failures are logged: TTL bounds the staleness."""
        if not keys:
            return
        try:
            self.client.delete(*keys)
        except REDIS_ERRORS as exc:
            self._failed(exc)

    def generation(self, name: str) -> int:
        """A counter embedded in keys of derived data (lists, searches); bumping it invalidates them all."""
        if not self.available:
            return 0
        try:
            raw = self.client.get(self.key("gen", name))
            return int(raw or 0)
        except REDIS_ERRORS as exc:
            self._failed(exc)
            return 0

    def bump(self, name: str) -> None:
        try:
            self.client.incr(self.key("gen", name))
        except REDIS_ERRORS as exc:
            self._failed(exc)

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except REDIS_ERRORS:
            return False
