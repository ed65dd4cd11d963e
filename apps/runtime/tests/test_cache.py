"""Cache-aside against a real Redis: stampede protection, jittered TTLs, versioned keys, outage bypass."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import redis

from apps.localdeps import LocalDeps
from apps.localdeps.process import wait_for
from apps.runtime.cache import Cache
from apps.runtime.metrics import Metrics
from apps.runtime.near_cache import FALLBACK_TTL_S


def make(url: str, version: int = 1, ttl: int = 100, lock_wait_s: float = 1.0) -> Cache:
    return Cache(
        url,
        "cachetest",
        Metrics("cachetest"),
        ttl_s=ttl,
        timeout_s=0.25,
        retry_after_s=0.3,
        format_version=version,
        lock_wait_s=lock_wait_s,
    )


def test_concurrent_misses_load_once(deps: LocalDeps):
    cache = make(deps.endpoints.redis_url, lock_wait_s=10)  # generous: the machine may be busy
    key = cache.key("stampede", time.time_ns())
    calls: list[int] = []
    barrier = threading.Barrier(8)
    results: list[dict] = []

    def loader() -> dict:
        calls.append(1)
        time.sleep(0.2)
        return {"v": 1}

    def worker() -> None:
        barrier.wait()
        results.append(cache.get_or_load(key, loader))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [{"v": 1}] * 8
    assert len(calls) == 1
    assert cache.metrics.value("peakshop_cache_requests_total", result="coalesced") == 7


def test_ttls_are_jittered_and_keys_versioned(deps: LocalDeps):
    v1, v2 = make(deps.endpoints.redis_url, 1), make(deps.endpoints.redis_url, 2)
    ttls = set()
    for i in range(20):
        key = v1.key("ttl", time.time_ns(), i)
        v1.get_or_load(key, lambda: {"x": 1})
        ttls.add(v1.client.ttl(key))
    assert all(90 <= t <= 110 for t in ttls) and len(ttls) > 3
    v1.get_or_load(v1.key("shared"), lambda: {"format": 1})
    assert v2.get_or_load(v2.key("shared"), lambda: {"format": 2}) == {"format": 2}
    assert v1.get_or_load(v1.key("shared"), lambda: {"format": "reloaded"}) == {"format": 1}


def test_none_is_not_cached_and_invalidate_reloads(deps: LocalDeps):
    cache = make(deps.endpoints.redis_url)
    key = cache.key("inv", time.time_ns())
    assert cache.get_or_load(key, lambda: None) is None
    assert cache.get_or_load(key, lambda: {"n": 1}) == {"n": 1}
    cache.invalidate(key)
    assert cache.get_or_load(key, lambda: {"n": 2}) == {"n": 2}
    generation = cache.generation("lists")
    cache.bump("lists")
    assert cache.generation("lists") == generation + 1


def test_unreachable_redis_serves_loader_and_backs_off():
    cache = make("redis://127.0.0.1:9/0")  # nothing listens on port 9
    assert [cache.get_or_load("k", lambda: {"db": True}) for _ in range(20)] == [{"db": True}] * 20
    # one failed attempt, then bypassed until REDIS_RETRY_AFTER_S: requests do not each wait for a timeout
    assert cache.metrics.value("peakshop_cache_requests_total", result="error") == 1
    assert cache.metrics.value("peakshop_cache_requests_total", result="bypass") == 19


def near(url: str, local_ttl_s: float = 30, bypass: Callable[[], bool] = lambda: False) -> Cache:
    """A cache with a near cache; each one has its own client and listener, like a separate process."""
    return Cache(
        url,
        "cachetest",
        Metrics("cachetest"),
        ttl_s=100,
        timeout_s=0.25,
        retry_after_s=0.3,
        local_ttl_s=local_ttl_s,
        bypass_local=bypass,
    )


def listening(cache: Cache) -> Cache:
    cache.near.get("warm-up")  # starts the listener
    wait_for(lambda: cache.near.subscribed, "near-cache subscription", 10)
    return cache


def local_hits(cache: Cache) -> float:
    return cache.metrics.value("peakshop_cache_requests_total", result="local_hit")


def test_near_cache_serves_hot_keys_locally_until_another_process_invalidates(deps: LocalDeps):
    bypass = {"on": False}
    cache = listening(near(deps.endpoints.redis_url, bypass=lambda: bypass["on"]))
    other_process = listening(near(deps.endpoints.redis_url))
    key = cache.key("near", time.time_ns())
    assert cache.get_or_load(key, lambda: {"v": 1}, local=True) == {"v": 1}
    assert cache.get_or_load(key, lambda: {"v": 2}, local=True) == {"v": 1}
    assert local_hits(cache) == 1
    other_process.invalidate(key)  # another worker's write reaches this process's near cache
    wait_for(lambda: cache.get_or_load(key, lambda: {"v": 2}, local=True) == {"v": 2}, "invalidation", 5)
    bypass["on"] = True  # this client just wrote: read-your-writes skips the near cache
    cache.client.set(key, b'{"v": 3}')
    assert cache.get_or_load(key, lambda: {"v": 3}, local=True) == {"v": 3}
    bypass["on"] = False
    cache.invalidate(key)  # a write in this process drops the local copy at once
    assert cache.get_or_load(key, lambda: {"v": 4}, local=True) == {"v": 4}
    assert cache.get_or_load(key, lambda: {"v": 5}) == {"v": 4}  # local=False never uses the near cache
    generation = cache.generation("near-lists", local=True)
    other_process.bump("near-lists")
    wait_for(lambda: cache.generation("near-lists", local=True) == generation + 1, "generation bump", 5)


def test_near_cache_does_not_keep_a_value_loaded_across_an_invalidation(deps: LocalDeps):
    cache = listening(near(deps.endpoints.redis_url))
    other_process = listening(near(deps.endpoints.redis_url))
    key = cache.key("race", time.time_ns())

    def slow_loader() -> dict:
        seen = cache.near.mark()
        other_process.invalidate(key)  # a write lands while this load is in flight
        wait_for(lambda: cache.near.mark() != seen, "invalidation during the load", 5)
        return {"v": "maybe stale"}

    cache.get_or_load(key, slow_loader, local=True)
    cache.get_or_load(key, lambda: {"v": "unused"}, local=True)
    assert local_hits(cache) == 0  # the second read went to Redis: the first value was not kept locally


def test_near_cache_forgets_everything_when_its_channel_drops(deps: LocalDeps):
    cache = listening(near(deps.endpoints.redis_url))
    key = cache.key("dropped", time.time_ns())
    assert cache.get_or_load(key, lambda: {"v": 1}, local=True) == {"v": 1}
    cache.client.set(key, b'{"v": 2}')  # a change whose message this process will never get
    admin = redis.Redis.from_url(deps.endpoints.redis_url)
    seen = cache.near.mark()
    admin.client_kill_filter(_type="pubsub")
    # This listener's own cycle: losing the channel clears (a new mark) while it is already unsubscribed, so both
    # hold only after it subscribed again. A new pubsub client in Redis is not enough: other tests' listeners in
    # this process were killed too, and one of theirs may come back before this one notices (CI saw it).
    wait_for(lambda: cache.near.mark() != seen and cache.near.subscribed, "near-cache resubscription", 10)
    assert cache.get_or_load(key, lambda: {"v": 3}, local=True) == {"v": 2}


def test_near_cache_without_its_channel_keeps_entries_briefly():
    cache = near("redis://127.0.0.1:9/0", local_ttl_s=30)  # nothing listens: never subscribed
    key = cache.key("fallback")
    assert cache.get_or_load(key, lambda: {"v": 1}, local=True) == {"v": 1}
    assert cache.get_or_load(key, lambda: {"v": 2}, local=True) == {"v": 1}
    time.sleep(FALLBACK_TTL_S + 0.1)
    assert cache.get_or_load(key, lambda: {"v": 3}, local=True) == {"v": 3}
    assert not cache.near.subscribed
