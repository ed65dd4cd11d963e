"""`python -m apps.bench.checkout` (`make bench-checkout`): checkout throughput and latency through gunicorn,
and end-to-end time to `paid`, on the real local platform (MariaDB writer + replica, Redis, moto SQS, outbox
relay, Celery orders and notifications workers), load generator on the same machine.

Phases: (1) steady: open loop at STEADY_RATE/s on empty queues -> time from order creation to `paid`
(database timestamps) and whether the outbox/queue backlog grows; (2) peak: closed loop, CLIENTS concurrent
keep-alive clients -> checkouts/s, p50, p99, then a bounded drain. Then the books: oversold (units sold beyond
any product's initial stock) and lost (an accepted 201/202 checkout without an order); orders still pending
after the drain are reported separately (slow, not lost). CPU seconds per process during the peak, the
machine's load average and a bare transaction of the same shape say where the time goes and how contended
the machine was. Writes reports/bench-checkout.json."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apps.localdeps import LocalDeps
from apps.localdeps.process import free_port, wait_for
from apps.workers import queues as sqsq
from apps.workers.localenv import REPO, CheckoutPlatform

REPORT = REPO / "reports" / "bench-checkout.json"
HOT_PRODUCTS, HOT_STOCK, HOT_SHARE = 20, 40, 0.05  # a few products sell out under contention
PRICE = 1999
BARE_AT_TARGET = 1900  # bare transactions/s on this machine when issue 6 set the 300 checkouts/s target


@dataclass
class Results:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    accepted_keys: list[str] = field(default_factory=list)  # 201/202: each must end as exactly one order
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: int, ms: float, key: str) -> None:
        with self.lock:
            self.latencies_ms.append(ms)
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status in (201, 202):
                self.accepted_keys.append(key)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Client:
    def __init__(self, port: int, products: list[int], hot: list[int]) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.products, self.hot = products, hot

    def checkout(self, results: Results) -> None:
        pool = self.hot if random.random() < HOT_SHARE else self.products
        picks = random.sample(pool, random.choice((1, 1, 2, 3)))
        body = json.dumps(
            {
                "cart_id": secrets.token_hex(8),
                "currency": "EUR",
                "lines": [
                    {"product_id": p, "quantity": random.choice((1, 1, 2)), "unit_price_cents": PRICE} for p in picks
                ],
                "payment": {"token": "tok_approve", "card_last4": "4242"},
                "email": "bench@example.com",
            }
        )
        key = secrets.token_hex(12)
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}
        started = time.perf_counter()
        try:
            self.conn.request("POST", "/api/orders/checkout", body, headers)
            resp = self.conn.getresponse()
            resp.read()
            status = resp.status
        except (OSError, http.client.HTTPException):
            self.conn.close()
            status = 599
        results.add(status, (time.perf_counter() - started) * 1000, key)


def closed_loop(port: int, products: list[int], hot: list[int], clients: int, seconds: float) -> Results:
    results, stop = Results(), time.monotonic() + seconds

    def run() -> None:
        client = Client(port, products, hot)
        while time.monotonic() < stop:
            client.checkout(results)

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def open_loop(port: int, products: list[int], hot: list[int], rate: float, seconds: float) -> Results:
    """Requests start on a fixed schedule regardless of how long earlier ones take (no coordinated omission)."""
    results, start, total = Results(), time.monotonic(), int(rate * seconds)
    slots = iter(range(total))
    slot_lock = threading.Lock()

    def run() -> None:
        client = Client(port, products, hot)
        while True:
            with slot_lock:
                n = next(slots, None)
            if n is None:
                return
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            client.checkout(results)

    threads = [threading.Thread(target=run) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def cpu_seconds(pids: dict[str, list[int]]) -> dict[str, float]:
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for name, group in pids.items():
        total = 0.0
        for pid in group:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
            except (OSError, IndexError):
                pass
        out[name] = total
    return out


def cpu_cores(groups: dict[str, list[int]], before: dict[str, float], seconds: float) -> dict[str, float]:
    after = cpu_seconds(groups)
    cores = {k: round((after[k] - before[k]) / seconds, 2) for k in groups}
    return {**cores, "total": round(sum(cores.values()), 2), "machine": os.cpu_count() or 1}


def process_tree(root: int) -> list[int]:
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            children = []
        todo.extend(int(c) for c in children)
    return found


def bare_transaction_rate(platform: CheckoutPlatform, product: int, seconds: float = 3.0) -> float:
    """The same shape without HTTP, validation, JSON or Python service code: the database's share."""
    conn = platform.admin(platform.orders_db)
    n, stop = 0, time.monotonic() + seconds
    with conn.cursor() as cur:
        while time.monotonic() < stop:
            conn.begin()
            cur.execute(
                f"UPDATE `{platform.catalog_db}`.products SET stock = stock - 1 WHERE id = %s AND stock >= 1",
                (product,),
            )
            oid = secrets.token_hex(16)
            cur.execute(
                "INSERT INTO orders (id, email, status, cart_id, currency, total_cents, payment_token, card_last4, "
                "stock_held) VALUES (%s, 'b@e.x', 'cancelled', 'bare', 'EUR', 0, 'tok', '0000', 0)",
                (oid,),
            )
            cur.execute(
                "INSERT INTO outbox (order_id, topic, payload, sent_at) VALUES (%s, 'bare', '{}', NOW(6))", (oid,)
            )
            conn.commit()
            n += 1
    conn.close()
    return n / seconds


def books(platform: CheckoutPlatform, initial: dict[int, int], keys: list[str]) -> dict[str, Any]:
    sold = {
        int(r["product_id"]): int(r["n"])
        for r in platform.sql(
            platform.orders_db,
            "SELECT l.product_id, SUM(l.quantity) AS n FROM order_lines l JOIN orders o ON o.id = l.order_id "
            "WHERE o.status <> 'cancelled' GROUP BY l.product_id",
        )
    }
    stock = {int(r["id"]): int(r["stock"]) for r in platform.sql(platform.catalog_db, "SELECT id, stock FROM products")}
    oversold = sum(max(0, sold.get(p, 0) - initial[p]) for p in initial)
    inconsistent = sum(1 for p in initial if stock[p] != initial[p] - sold.get(p, 0))
    found = set()
    for i in range(0, len(keys), 1000):
        chunk = keys[i : i + 1000]
        rows = platform.sql(platform.orders_db, "SELECT idem_key FROM checkouts WHERE idem_key IN %s", (chunk,))
        found |= {r["idem_key"] for r in rows}
    unsettled = platform.sql(platform.orders_db, "SELECT COUNT(*) AS n FROM orders WHERE status = 'pending'")[0]["n"]
    return {
        "oversold": oversold,
        "stock_inconsistent_products": inconsistent,
        "lost_accepted_without_order": len(set(keys) - found),
        "unsettled_pending": int(unsettled),
    }


def time_to_paid(platform: CheckoutPlatform, since: str) -> list[float]:
    rows = platform.sql(
        platform.orders_db,
        "SELECT TIMESTAMPDIFF(MICROSECOND, created_at, updated_at) AS us FROM orders "
        "WHERE status = 'paid' AND created_at >= %s",
        (since,),
    )
    return [r["us"] / 1000 for r in rows]


def backlog(platform: CheckoutPlatform, sqs: Any) -> dict[str, int]:
    unsent = platform.sql(platform.orders_db, "SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL")[0]["n"]
    d = sqsq.depth(sqs, platform.queues["orders"])
    pending = platform.sql(platform.orders_db, "SELECT COUNT(*) AS n FROM orders WHERE status = 'pending'")[0]["n"]
    return {"outbox_unsent": int(unsent), "orders_queue": d.visible + d.in_flight, "orders_pending": int(pending)}


class BenchError(RuntimeError):
    """The platform under test broke: no report is written, since its figures would describe a broken run."""


def check_alive(platform: CheckoutPlatform, procs: dict[str, subprocess.Popen[bytes]]) -> None:
    for name, proc in procs.items():
        if proc.poll() is not None:
            raise BenchError(f"{name} exited with status {proc.returncode} during the run\n{platform.log_tail(name)}")


def wait_settled(platform: CheckoutPlatform, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if platform.sql(platform.orders_db, "SELECT COUNT(*) AS n FROM orders WHERE status = 'pending'")[0]["n"] == 0:
            break
        time.sleep(0.2)
    return time.monotonic() - started


@dataclass
class SteadyRun:
    results: Results
    report: dict[str, Any]


def steady_run(
    platform: CheckoutPlatform,
    sqs: Any,
    port: int,
    products: list[int],
    hot: list[int],
    rate: float,
    seconds: float,
    groups: dict[str, list[int]],
) -> SteadyRun:
    """Open loop at `rate` for `seconds`, backlog sampled every 5 s, then a bounded drain and time to paid; the
    CPU cores each process used during the load say what the pipeline costs at that rate."""
    since = platform.sql(platform.orders_db, "SELECT NOW(6) AS t")[0]["t"]
    backlog_start = backlog(platform, sqs)
    samples: list[dict[str, int]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(5):
            samples.append(backlog(platform, sqs))

    sampler = threading.Thread(target=sample)
    sampler.start()
    cpu_before, t0 = cpu_seconds(groups), time.monotonic()
    results = open_loop(port, products, hot, rate, seconds)
    cores = cpu_cores(groups, cpu_before, time.monotonic() - t0)
    stop.set()
    sampler.join()
    drain_s = wait_settled(platform, 90)
    paid_ms = time_to_paid(platform, since)
    return SteadyRun(
        results,
        {
            **summary(results, seconds),
            "target_rate_per_s": rate,
            "time_to_paid_p50_ms": round(percentile(paid_ms, 50), 1) if paid_ms else None,
            "time_to_paid_p99_ms": round(percentile(paid_ms, 99), 1) if paid_ms else None,
            "paid_orders": len(paid_ms),
            "drain_after_s": round(drain_s, 1),
            "backlog_start": backlog_start,
            "backlog_samples_every_5s": samples,
            "cpu_cores": cores,
        },
    )


def broker_ceiling(platform: CheckoutPlatform, sqs: Any, messages: int = 200) -> dict[str, float]:
    """What the local SQS stand-in (moto) sustains on this machine right now, on a side queue: batched
    sends, then receive + delete of 10 at a time (what each task costs the broker, without Celery)."""
    url, _ = sqsq.create_queue_with_dlq(sqs, f"bench-ceiling-{secrets.token_hex(3)}", 60)
    body = "x" * 1500  # about the size of a Celery task message
    t0 = time.monotonic()
    for _ in range(messages // 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(j), "MessageBody": body} for j in range(10)])
    sent_s = time.monotonic() - t0
    t0, got = time.monotonic(), 0
    while got < messages:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not batch:
            break
        for m in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        got += len(batch)
    return {
        "send_batched_msgs_per_s": round(messages / sent_s, 1),
        "receive_and_delete_msgs_per_s": round(got / (time.monotonic() - t0), 1),
    }


def summary(r: Results, seconds: float) -> dict[str, Any]:
    ok = r.statuses.get(201, 0) + r.statuses.get(202, 0)
    return {
        "requests": len(r.latencies_ms),
        "checkouts_per_s": round(ok / seconds, 1),
        "requests_per_s": round(len(r.latencies_ms) / seconds, 1),
        **{f"p{p}_ms": round(percentile(r.latencies_ms, p), 2) for p in (50, 90, 99)},
        "statuses": {str(k): v for k, v in sorted(r.statuses.items())},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apps.bench.checkout")
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--peak-s", type=float, default=20)
    parser.add_argument("--steady-rate", type=float, default=100)
    parser.add_argument("--steady-s", type=float, default=30)
    parser.add_argument("--drain-s", type=float, default=120)
    parser.add_argument("--low-rate", type=float, default=20)
    parser.add_argument("--low-s", type=float, default=20)
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--gunicorn-threads", type=int, default=8)
    args = parser.parse_args(argv)

    deps = LocalDeps()
    endpoints = deps.start()
    os.environ.update(
        AWS_ACCESS_KEY_ID=endpoints.aws_access_key_id,
        AWS_SECRET_ACCESS_KEY=endpoints.aws_secret_access_key,
        AWS_DEFAULT_REGION=endpoints.aws_region,
    )
    platform = CheckoutPlatform(deps, visibility_timeout_s=120)
    gunicorn: subprocess.Popen[bytes] | None = None
    try:
        products = platform.seed_products(args.products, stock=1_000_000, price_cents=PRICE)
        hot = platform.seed_products(HOT_PRODUCTS, stock=HOT_STOCK, price_cents=PRICE)
        initial = {p: 1_000_000 for p in products} | {p: HOT_STOCK for p in hot}
        bare = bare_transaction_rate(platform, products[0])
        initial[products[0]] = platform.stock(products[0])  # the bare loop took stock without order lines

        port = free_port()
        env = {
            **os.environ,
            **platform.orders_env(LOG_LEVEL="WARNING", DB_POOL_SIZE=str(args.gunicorn_threads + 2)),
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": str(args.gunicorn_workers),
            "GUNICORN_THREADS": str(args.gunicorn_threads),
            "GUNICORN_LOG_LEVEL": "warning",
        }
        log = (platform.workdir / "gunicorn.log").open("ab")
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "apps/runtime/gunicorn_conf.py", "apps.orders.wsgi:app"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

        def ready() -> bool:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/readyz")
            return c.getresponse().status == 200

        wait_for(ready, "orders gunicorn", 30, gunicorn)
        relay = platform.start("outbox-relay", LOG_LEVEL="WARNING")
        worker = platform.start("orders-worker", CONCURRENCY="10", LOG_LEVEL="WARNING")
        mailer = platform.start("notifications-worker", CONCURRENCY="10", LOG_LEVEL="WARNING")
        procs = {"gunicorn": gunicorn, "outbox-relay": relay, "orders-worker": worker, "notifications-worker": mailer}
        time.sleep(3)  # workers connect
        sqs = platform.sqs()

        closed_loop(port, products, hot, args.clients, 3)  # warm-up: pools, caches, connections
        if wait_settled(platform, 60) >= 60:
            check_alive(platform, procs)
            raise BenchError(f"the warm-up's orders did not settle within 60 s\n{platform.log_tail('orders-worker')}")
        load_start = os.getloadavg()

        # steady runs first, on empty queues: can the workers keep up? (a low rate shows the pipeline's own
        # latency; STEADY_RATE is the target)
        broker = broker_ceiling(platform, sqs)
        groups = {
            "gunicorn (orders)": process_tree(gunicorn.pid),
            "mariadb writer": [deps.writer.proc.pid],  # type: ignore[union-attr]
            "mariadb replica": [deps.replica.proc.pid],  # type: ignore[union-attr]
            "moto (SQS)": [deps.moto.proc.pid],  # type: ignore[union-attr]
            "redis": [deps.redis.proc.pid],  # type: ignore[union-attr]
            "outbox relay": process_tree(relay.pid),
            "orders worker": process_tree(worker.pid),
            "notifications worker": process_tree(mailer.pid),
            "load generator": [os.getpid()],
        }
        runs = [
            steady_run(platform, sqs, port, products, hot, rate, secs, groups)
            for rate, secs in ((args.low_rate, args.low_s), (args.steady_rate, args.steady_s))
        ]
        steady = runs[-1]

        # then the peak: how many checkouts/s the service takes (the workers catch up afterwards)
        cpu_before, t0 = cpu_seconds(groups), time.monotonic()
        peak = closed_loop(port, products, hot, args.clients, args.peak_s)
        peak_s = time.monotonic() - t0
        cpu = {k: round(v - cpu_before[k], 1) for k, v in cpu_seconds(groups).items()}
        machine_cpu_s = round(peak_s * (os.cpu_count() or 1), 1)
        backlog_after_peak = backlog(platform, sqs)
        drain_s = wait_settled(platform, args.drain_s)
        all_keys = peak.accepted_keys + [k for run in runs for k in run.results.accepted_keys]
        checked = books(platform, initial, all_keys)
        load_end = os.getloadavg()
        check_alive(platform, procs)

        report = {
            "checkouts_per_s": summary(peak, peak_s)["checkouts_per_s"],
            "p50_ms": summary(peak, peak_s)["p50_ms"],
            "p99_ms": summary(peak, peak_s)["p99_ms"],
            "time_to_paid_p99_ms": steady.report["time_to_paid_p99_ms"],
            "oversold": checked["oversold"],
            "lost": checked["lost_accepted_without_order"],
            "targets": {"checkouts_per_s": 300, "p99_ms": 100, "time_to_paid_p99_ms": 2000, "steady_rate": 100},
            "peak": {**summary(peak, peak_s), "clients": args.clients, "seconds": round(peak_s, 1)},
            "peak_backlog_after": backlog_after_peak,
            "drain_after_peak_s": round(drain_s, 1),
            "unsettled_after_drain": checked["unsettled_pending"],
            "steady": steady.report,
            "steady_low_rate": runs[0].report,
            "moto_sqs_ceiling": broker,
            "books": checked,
            "cpu_seconds_during_peak": {**cpu, "machine_total_available": machine_cpu_s},
            "machine_load_avg_1m": {"start": round(load_start[0], 1), "end": round(load_end[0], 1)},
            "bare_transaction_per_s": round(bare, 1),
            # this machine's speed drifts by 2x within an hour (shared host): the peak as a share of the bare
            # transaction measured in the same run, against the issue's own pair (300/s when the bare one ran
            # ~1,900/s), compares runs made at different speeds
            "peak_vs_bare_transaction": {
                "measured": round(summary(peak, peak_s)["checkouts_per_s"] / bare, 3),
                "target": round(300 / BARE_AT_TARGET, 3),
            },
            "setup": {
                "cpus": os.cpu_count(),
                "catalog_products": len(initial),
                "hot_products": {"count": HOT_PRODUCTS, "stock_each": HOT_STOCK, "traffic_share": HOT_SHARE},
                "gunicorn": {"workers": args.gunicorn_workers, "threads": args.gunicorn_threads},
                "worker_concurrency": 10,
                "note": "load generator, gunicorn, MariaDB x2, Redis, moto, relay and workers all on this machine",
            },
        }
        REPORT.parent.mkdir(exist_ok=True)
        REPORT.write_text(json.dumps(report, indent=2) + "\n")
        print(json.dumps({k: report[k] for k in list(report)[:6]}, indent=2))
        return 0
    except BenchError as exc:
        print(f"bench-checkout: {exc}", file=sys.stderr)
        return 1
    finally:
        platform.close()
        if gunicorn is not None and gunicorn.poll() is None:
            gunicorn.terminate()
            try:
                gunicorn.wait(30)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
        deps.stop()


if __name__ == "__main__":
    sys.exit(main())
