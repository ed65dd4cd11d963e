"""Redis cache-aside. Keys carry a format version (so old and new code never read each other's values during
a rolling deploy), TTLs are jittered (no synchronized expiry), a miss takes a short Redis lock so one process
loads while others wait briefly (stampede protection), writes invalidate explicitly, and any Redis failure
degrades to the loader: a cache outage costs latency, never errors.

Public, non-personal data may also use a tiny per-process near cache (`local=True`, LOCAL_CACHE_TTL_S, default
1 s): it saves the Redis round trip on hot keys. Other processes may serve a value up to that long after an
invalidation; a client that has just written bypasses it (read-your-writes)."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from typing import Any

import redis

from apps.runtime import redis_iam
from apps.runtime.metrics import Metrics

log = logging.getLogger("peakshop.cache")
REDIS_ERRORS = (redis.RedisError, OSError)


def _encode(value: Any) -> bytes | None:
    return None if value is None else json.dumps(value, separators=(",", ":")).encode()


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
        local_ttl_s: float = 0.0,
        bypass_local: Callable[[], bool] = lambda: False,
        iam_group: str = "",
    ) -> None:
        self.client = redis_iam.connect(url, timeout_s, iam_group)
        self.prefix = f"{service}:v{format_version}"
        self.metrics = metrics
        self.ttl_s = ttl_s
        self.retry_after_s = retry_after_s
        self.lock_wait_s = lock_wait_s
        self._down_until = 0.0
        self.local_ttl_s = local_ttl_s
        self.bypass_local = bypass_local
        self._local: dict[str, tuple[float, bytes]] = {}

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

    def get_or_load(self, key: str, loader: Callable[[], Any], ttl: int | None = None, local: bool = False) -> Any:
        """Cached JSON value for `key`, loading and storing it on a miss. A loader returning None is not cached."""
        raw = self.get_or_load_raw(key, loader, ttl, local)
        return None if raw is None else json.loads(raw)

    def get_or_load_raw(
        self, key: str, loader: Callable[[], Any], ttl: int | None = None, local: bool = False
    ) -> bytes | None:
        """Like get_or_load but returns the serialized JSON, so a hit is served without re-encoding."""
        use_local = local and self.local_ttl_s > 0 and not self.bypass_local()
        if use_local:
            entry = self._local.get(key)
            if entry is not None and entry[0] > time.monotonic():
                self.metrics.count_cache("local_hit")
                return entry[1]
        raw = self._shared(key, loader, ttl)
        if use_local and raw is not None:
            if len(self._local) >= 10_000:
                self._local.clear()
            self._local[key] = (time.monotonic() + self.local_ttl_s, raw)
        return raw

    def _shared(self, key: str, loader: Callable[[], Any], ttl: int | None) -> bytes | None:
        if not self.available:
            self.metrics.count_cache("bypass")
            return _encode(loader())
        try:
            raw = self.client.get(key)
            if raw is not None:
                self.metrics.count_cache("hit")
                return bytes(raw)
            self.metrics.count_cache("miss")
            lock_key = key + ":lock"
            if not self.client.set(lock_key, b"1", nx=True, px=max(100, int(self.lock_wait_s * 5000))):
                waited = self._wait_for(key)
                if waited is not None:
                    return waited
            encoded = _encode(loader())
            pipe = self.client.pipeline(transaction=False)
            if encoded is not None:
                pipe.set(key, encoded, ex=self.jittered(ttl))
            pipe.delete(lock_key)
            pipe.execute()
            return encoded
        except REDIS_ERRORS as exc:
            self._failed(exc)
            return _encode(loader())

    def _wait_for(self, key: str) -> bytes | None:
        deadline = time.monotonic() + self.lock_wait_s
        while time.monotonic() < deadline:
            time.sleep(0.01)
            raw = self.client.get(key)
            if raw is not None:
                self.metrics.count_cache("coalesced")
                return bytes(raw)
        return None

    def invalidate(self, *keys: str) -> None:
        """Delete keys after a committed write. Failures are logged: TTL bounds the staleness."""
        if not keys:
            return
        for key in keys:
            self._local.pop(key, None)
        try:
            self.client.delete(*keys)
        except REDIS_ERRORS as exc:
            self._failed(exc)

    def generation(self, name: str, local: bool = False) -> int:
        """A counter embedded in keys of derived data (lists, searches); bumping it invalidates them all."""
        if not self.available:
            return 0
        gen_key = self.key("gen", name)
        use_local = local and self.local_ttl_s > 0 and not self.bypass_local()
        entry = self._local.get(gen_key) if use_local else None
        if entry is not None and entry[0] > time.monotonic():
            return int(entry[1])
        try:
            value = int(self.client.get(gen_key) or 0)
        except REDIS_ERRORS as exc:
            self._failed(exc)
            return 0
        if use_local:
            self._local[gen_key] = (time.monotonic() + self.local_ttl_s, str(value).encode())
        return value

    def bump(self, name: str) -> None:
        self._local.clear()  # derived keys embed the generation; drop this process's copies at once
        try:
            self.client.incr(self.key("gen", name))
        except REDIS_ERRORS as exc:
            self._failed(exc)

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except REDIS_ERRORS:
            return False
