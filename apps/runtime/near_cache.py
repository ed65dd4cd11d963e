"""A per-process near cache in front of Redis, kept coherent by Redis pub/sub.

Every invalidation a process makes is published on the service's channel; each process listens on it (one
daemon thread, started lazily so a gunicorn worker starts its own after the fork) and drops the named keys.
While it is subscribed, entries may live the full `ttl_s` (the bound if a message were ever lost on a
connection that still looks healthy). While it is not (starting, Redis down, connection lost), no message
can reach it: it empties itself and keeps new entries at most FALLBACK_TTL_S.

A load that overlaps an invalidation is not stored: its value may predate the write (`mark` / `put`)."""

from __future__ import annotations

import contextlib
import itertools
import logging
import time
from collections.abc import Callable
from typing import Any

import redis

from apps.runtime.process_thread import ProcessThread

log = logging.getLogger("peakshop.cache")
REDIS_ERRORS = (redis.RedisError, OSError)
FALLBACK_TTL_S = 1.0
MAX_ENTRIES = 10_000
PING_EVERY_S = 5.0  # a silent network drop shows up as a missing PONG within two intervals
_SEPARATOR = "\n"


class NearCache:
    def __init__(self, client: redis.Redis, channel: str, ttl_s: float, retry_after_s: float) -> None:
        self.client = client
        self.channel = channel
        self.ttl_s = ttl_s
        self.retry_after_s = retry_after_s
        self.subscribed = False
        self._entries: dict[str, tuple[float, bytes]] = {}
        self._events = itertools.count()  # next() is atomic under the GIL
        self._last_event = next(self._events)
        self._listener = ProcessThread("near-cache-invalidations", self._listen, self._forget_inherited)

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0

    def get(self, key: str) -> bytes | None:
        self._listener.ensure()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        return None

    def mark(self) -> int:
        """Taken before loading a value; `put` refuses it if an invalidation arrived in between."""
        return self._last_event

    def put(self, key: str, value: bytes, mark: int) -> None:
        if mark != self._last_event:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        ttl = self.ttl_s if self.subscribed else min(self.ttl_s, FALLBACK_TTL_S)
        self._entries[key] = (time.monotonic() + ttl, value)

    def drop(self, keys: tuple[str, ...] | list[str]) -> None:
        self._last_event = next(self._events)
        for key in keys:
            self._entries.pop(key, None)

    def clear(self) -> None:
        self._last_event = next(self._events)
        self._entries.clear()

    def publish(self, pipe: Any, keys: tuple[str, ...]) -> None:
        """Queue the message telling every other process to drop `keys` (on the caller's pipeline)."""
        pipe.publish(self.channel, _SEPARATOR.join(keys))

    def _forget_inherited(self) -> None:
        self.subscribed = False
        self.clear()  # a forked worker cannot trust copies made before it had a listener

    def _listen(self, current: Callable[[], bool]) -> None:
        while current():
            pubsub = self.client.pubsub()
            try:
                self._follow(pubsub)
            except REDIS_ERRORS as exc:
                if self.subscribed:
                    log.warning("near cache lost its invalidation channel", extra={"error": str(exc)})
            finally:
                if self.subscribed:  # entries made while unsubscribed already expire within FALLBACK_TTL_S
                    self.subscribed = False
                    self.clear()
                with contextlib.suppress(REDIS_ERRORS):
                    pubsub.close()
            time.sleep(self.retry_after_s)

    def _follow(self, pubsub: Any) -> None:
        pubsub.subscribe(self.channel)
        last_heard = last_ping = time.monotonic()
        while True:
            message = pubsub.get_message(timeout=1.0)
            now = time.monotonic()
            if message is not None:
                last_heard = now
                kind = message["type"]
                if kind == "message":
                    self.drop(message["data"].decode().split(_SEPARATOR))
                elif kind == "subscribe":
                    self.clear()
                    self.subscribed = True
            elif now - last_heard > 2 * PING_EVERY_S:
                raise redis.ConnectionError("no PONG on the invalidation channel")
            if now - last_ping >= PING_EVERY_S:
                pubsub.ping()
                last_ping = now
