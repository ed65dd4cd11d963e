"""`make bench-catalog`: catalog product detail and list throughput through gunicorn against real MariaDB
(writer + replica) and Redis, cache cold vs warm, and in the same run a bare Flask hello-world under the same
gunicorn settings as the ceiling. Writes reports/bench-catalog.json.

Targets (from the issue): detail >= 0.7x the ceiling, p99 <= 20 ms at half of the peak detail throughput."""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pymysql
import redis
from prometheus_client.parser import text_string_to_metric_families

from apps.bench import wrk
from apps.localdeps import LocalDeps
from apps.localdeps.process import free_port, wait_for
from apps.runtime.config import mysql_url
from apps.runtime.migrations import discover, migrate

ROOT = Path(__file__).resolve().parents[2]
PRODUCTS = 1000


def seed(deps: LocalDeps, database: str) -> None:
    url = mysql_url(deps.endpoints.mysql_url(database, admin=True))
    assert url is not None
    migrate(url, discover(ROOT / "apps/catalog/migrations"))
    conn = pymysql.connect(
        host=url.host, port=url.port, user=url.user, password=url.password, database=database, autocommit=False
    )
    with conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO categories (slug, name) VALUES (%s, %s)", [(f"cat-{i}", f"Category {i}") for i in range(1, 6)]
        )
        cur.executemany(
            "INSERT INTO products (sku, name, description, category_id, price_cents, currency, stock) "
            "VALUES (%s, %s, %s, %s, %s, 'EUR', %s)",
            [
                (
                    f"SKU-{i:05d}",
                    f"Product {i} trail gear",
                    "A sturdy piece of outdoor equipment. " * 4,
                    i % 5 + 1,
                    500 + (i * 37) % 20000,
                    i % 50,
                )
                for i in range(1, PRODUCTS + 1)
            ],
        )
        conn.commit()
    deps.wait_replica_caught_up()


@contextmanager
def gunicorn(target: str, env: dict[str, str], workers: int, threads: int, worker_class: str) -> Iterator[str]:
    port = free_port()
    metrics_dir = tempfile.mkdtemp(prefix="peakshop-bench-metrics-")
    full_env = {
        **os.environ,
        **env,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(workers),
        "GUNICORN_THREADS": str(threads),
        "GUNICORN_WORKER_CLASS": worker_class,
        "GUNICORN_LOG_LEVEL": "warning",
        "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
    }
    with (Path(metrics_dir) / "gunicorn.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "apps/runtime/gunicorn_conf.py", target],
            cwd=ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    probe = "/hello" if "hello" in target else "/healthz"
    try:
        wait_for(lambda: urllib.request.urlopen(base + probe, timeout=1).status == 200, target, 30, proc)
        yield base
    except BaseException:
        print(f"{target}: gunicorn's log is kept in {metrics_dir}", file=sys.stderr)
        raise
    else:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def warm_every_product(prefix: str) -> None:
    """Request each product once so the measured runs are all cache hits (what 'warm' means here)."""
    with ThreadPoolExecutor(8) as pool:
        statuses = list(
            pool.map(lambda i: urllib.request.urlopen(f"{prefix}{i}", timeout=30).status, range(1, PRODUCTS + 1))
        )
    assert set(statuses) == {200}, set(statuses)


def cache_counts(base: str) -> dict[str, float]:
    text = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()
    counts: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name == "peakshop_cache_requests":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    counts[sample.labels["result"]] = counts.get(sample.labels["result"], 0) + sample.value
    return counts


def hit_ratio(before: dict[str, float], after: dict[str, float]) -> float:
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in set(before) | set(after)}
    total = sum(delta.values())
    served = delta.get("hit", 0) + delta.get("local_hit", 0) + delta.get("coalesced", 0)
    return round(served / total, 4) if total else 0.0


def summarize(run: dict[str, Any]) -> dict[str, Any]:
    return {
        "rps": round(run["rps"], 1),
        "p50_ms": round(run["p50_us"] / 1000, 2),
        "p90_ms": round(run["p90_us"] / 1000, 2),
        "p99_ms": round(run["p99_us"] / 1000, 2),
        "requests": run["requests"],
        "errors": run["socket_errors"] + run["non2xx"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apps.bench.catalog")
    parser.add_argument("--seconds", type=float, default=10)
    # 64 keep-alive connections spread evenly over the gunicorn workers; with 16 the split is left to chance and
    # a worker holding most of them caps the run (paired ratios from 0.3 to 1.9 were seen that way).
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--rounds", type=int, default=5, help="alternating ceiling/detail measurement rounds")
    parser.add_argument("--local-cache-ttl", default=None, help="override PEAKSHOP_CATALOG_LOCAL_CACHE_TTL_S")
    parser.add_argument("--out", default="reports/bench-catalog.json")
    args = parser.parse_args(argv)
    secs, conns = args.seconds, args.connections
    server = (args.workers, args.threads, args.worker_class)

    load_before = os.getloadavg()
    deps = LocalDeps(with_moto=False)
    endpoints = deps.start()
    try:
        database = f"peakshop_bench_{secrets.token_hex(3)}"
        seed(deps, database)
        p = "PEAKSHOP_CATALOG_"
        env = {
            p + "DB_WRITER_URL": endpoints.mysql_url(database),
            p + "DB_READER_URL": endpoints.mysql_url(database, reader=True),
            p + "REDIS_URL": endpoints.redis_url,
            p + "ADMIN_TOKEN": secrets.token_urlsafe(32),
            p + "MEDIA_BUCKET": "bench-media",
            p + "CDN_BASE_URL": "https://media.bench.invalid",
        }
        if args.local_cache_ttl is not None:
            env[p + "LOCAL_CACHE_TTL_S"] = args.local_cache_ttl
        detail = "/api/catalog/products/"
        with (
            gunicorn("apps.bench.hello:app", {}, *server) as hello,
            gunicorn("apps.catalog.wsgi:app", env, *server) as base,
        ):
            redis.Redis.from_url(endpoints.redis_url).flushall()
            before = cache_counts(base)
            cold = wrk.run(base, detail, PRODUCTS, 3, conns)
            cold_ratio = hit_ratio(before, cache_counts(base))
            warm_every_product(base + detail)
            wrk.run(hello, "/hello", 1, 2, conns)  # warm-up
            wrk.run(base, detail, PRODUCTS, 2, conns)  # fills every worker's near cache
            # The machine is shared: alternate ceiling and detail runs so each pair sees the same background
            # load; the ratio is the median of the paired ratios.
            ceilings, warms, ratios = [], [], []
            before = cache_counts(base)
            for _ in range(args.rounds):
                ceilings.append(wrk.run(hello, "/hello", 1, secs, conns))
                warms.append(wrk.run(base, detail, PRODUCTS, secs, conns))
                ratios.append(warms[-1]["rps"] / ceilings[-1]["rps"])
            warm_ratio = hit_ratio(before, cache_counts(base))
            ceiling = sorted(ceilings, key=lambda r: r["rps"])[len(ceilings) // 2]
            warm = sorted(warms, key=lambda r: r["rps"])[len(warms) // 2]
            ratio = sorted(ratios)[len(ratios) // 2]
            listing = wrk.run(base, "/api/catalog/products?sort=price&page_size=20&page=", 50, secs, conns)
            half = wrk.paced(base, detail, PRODUCTS, secs, warm["rps"] / 2)
    finally:
        deps.stop()

    report = {
        "detail_rps": round(warm["rps"], 1),
        "ceiling_rps": round(ceiling["rps"], 1),
        "ratio": round(ratio, 3),
        "paired_ratios": [round(r, 3) for r in ratios],
        "p50_ms": round(warm["p50_us"] / 1000, 2),
        "p99_ms_half_load": round(half["p99_us"] / 1000, 2),
        "cache_hit_ratio": warm_ratio,
        "targets": {
            "ratio_min": 0.7,
            "p99_ms_half_load_max": 20.0,
            "ratio_met": ratio >= 0.7,
            "p99_met": half["p99_us"] / 1000 <= 20.0,
        },
        "runs": {
            "ceiling_hello": summarize(ceiling),
            "detail_cold": {**summarize(cold), "cache_hit_ratio": cold_ratio},
            "detail_warm": {**summarize(warm), "cache_hit_ratio": warm_ratio},
            "list_warm": summarize(listing),
            "detail_half_load": {
                **summarize(half),
                "target_rps": round(half["target_rps"], 1),
                "think_time_ms_per_connection": half["delay_ms"],
            },
        },
        "method": {
            "load_generator": "wrk 4.1 (1 thread, keep-alive); half load = closed loop with calibrated think time",
            "connections": conns,
            "seconds_per_run": secs,
            "ratio": "median of the paired ratios (each detail run right after its ceiling run)",
            "products": PRODUCTS,
            "gunicorn": {
                "workers": args.workers,
                "threads": args.threads,
                "worker_class": args.worker_class,
                "preload": True,
            },
            "dependencies": "MariaDB writer + GTID replica, Redis (apps.localdeps), all on this machine",
            "catalog_settings": "service defaults"
            + (f", LOCAL_CACHE_TTL_S={args.local_cache_ttl}" if args.local_cache_ttl is not None else ""),
            "access_pattern": f"uniform over {PRODUCTS} product ids (no hot set)",
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
                "load_average_1m_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
                "note": "shared with other engineers' jobs; compare ratio and paired_ratios, not absolute rps",
            },
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
    }
    out = ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(
        json.dumps(
            {
                k: report[k]
                for k in ("detail_rps", "ceiling_rps", "ratio", "p50_ms", "p99_ms_half_load", "cache_hit_ratio")
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
