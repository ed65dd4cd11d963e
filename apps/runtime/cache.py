"""Redis cache-aside. Keys carry a format version (so old and new code never read each other's values during
a rolling deploy), TTLs are jittered (no synchronized expiry), a miss takes a short Redis lock so one process
loads while others wait briefly (stampede protection), writes invalidate explicitly, and any Redis failure
degrades to the loader: a cache outage costs latency, never errors.

Public, non-personal data may also use a per-process near cache (`local=True`, LOCAL_CACHE_TTL_S): it saves
the Redis round trip on hot keys. Invalidations reach every process's near cache by pub/sub (near_cache.py);
a client that has just written bypasses it (read-your-writes)."""

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
from apps.runtime.near_cache import NearCache

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
        self.bypass_local = bypass_local
        self.near = NearCache(self.client, f"{self.prefix}:invalidate", local_ttl_s, retry_after_s)

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
        near = self.near
        if not (local and near.enabled) or self.bypass_local():
            return self._shared(key, loader, ttl)
        raw = near.get(key)
        if raw is not None:
            self.metrics.count_cache("local_hit")
            return raw
        mark = near.mark()
        raw = self._shared(key, loader, ttl)
        if raw is not None:
            near.put(key, raw, mark)
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
        self.near.drop(keys)
        self._write_and_announce(lambda pipe: pipe.delete(*keys), keys)

    def generation(self, name: str, local: bool = False) -> int:
        """A counter embedded in keys of derived data (lists, searches); bumping it invalidates them all."""
        if not self.available:
            return 0
        gen_key = self.key("gen", name)
        near = self.near
        use_local = local and near.enabled and not self.bypass_local()
        if use_local:
            cached = near.get(gen_key)
            if cached is not None:
                return int(cached)
        mark = near.mark()
        try:
            value = int(self.client.get(gen_key) or 0)
        except REDIS_ERRORS as exc:
            self._failed(exc)
            return 0
        if use_local:
            near.put(gen_key, str(value).encode(), mark)
        return value

    def bump(self, name: str) -> None:
        """Invalidate everything derived from generation `name` (the old keys expire by TTL)."""
        gen_key = self.key("gen", name)
        self.near.clear()  # derived keys embed the generation; drop this process's copies at once
        self._write_and_announce(lambda pipe: pipe.incr(gen_key), (gen_key,))

    def _write_and_announce(self, write: Callable[[Any], object], keys: tuple[str, ...]) -> None:
        """One round trip: the write, then (with near caches) the message telling other processes to drop keys."""
        try:
            pipe = self.client.pipeline(transaction=False)
            write(pipe)
            if self.near.enabled:
                self.near.publish(pipe, keys)
            pipe.execute()
        except REDIS_ERRORS as exc:
            self._failed(exc)

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except REDIS_ERRORS:
            return False
