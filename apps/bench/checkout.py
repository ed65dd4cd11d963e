"""`python -m apps.bench.checkout` (`make bench-checkout`): checkout throughput and latency through gunicorn,
and end-to-end time to `paid`, on the real local platform (MariaDB writer + replica, Redis, moto SQS, outbox
relay, Celery orders and notifications workers), load generator on the same machine.

Phases: (1) steady: open loop at STEADY_RATE/s on empty queues -> time from order creation to `paid`
(database timestamps) and whether the outbox/queue backlog grows; (2) peak: open loop at PEAK_RATE/s ->
checkouts/s and p50/p90/p99 at the target rate, then a bounded drain; (3) saturation: closed loop, CLIENTS
keep-alive clients -> the most checkouts/s the machine takes, and the latency at that load. Open-loop latency
counts from each request's scheduled start, so a late load generator cannot hide queueing. Then the books:
oversold (units sold beyond any product's initial stock) and lost (an accepted 201/202 checkout without an
order); orders still pending after the drain are reported separately (slow, not lost).

CPU priority: every process runs in its own session, and Linux autogroup scheduling (on by default) shares
the CPU equally between sessions, so the relay, each Celery worker and moto would each weigh as much as the
whole web tier. The design wants the opposite: only the checkout is synchronous, and everything behind the
queues may lag at a peak and catch up after it. The bench gives the background tier (relay, workers, and
moto, which only they use) `nice`'s default +10 for the measured phases, and first runs the peak once at
equal shares so the report shows what that priority is worth. In production the tiers do not share two cores:
web pods, worker pods, RDS and SQS each scale on their own capacity.

CPU seconds per process during the peak, the machine's load average and a bare transaction of the same shape
say where the time goes and how contended the machine was. Writes reports/bench-checkout.json."""

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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apps.localdeps import LocalDeps
from apps.localdeps.process import free_port, wait_for
from apps.workers import queues as sqsq
from apps.workers.localenv import REPO, CheckoutPlatform

REPORT = REPO / "reports" / "bench-checkout.json"
HOT_PRODUCTS, HOT_STOCK, HOT_SHARE = 20, 40, 0.05  # each phase's own few products sell out under contention
PRICE = 1999
BARE_AT_TARGET = 1900  # bare transactions/s on this machine when issue 6 set the 300 checkouts/s target
BACKGROUND = ("outbox relay", "orders worker", "notifications worker", "moto (SQS)")  # keys of `groups` in main
BACKGROUND_NICE = 10  # `nice`'s default increment
TARGETS = {"checkouts_per_s": 300, "p99_ms": 100, "time_to_paid_p99_ms": 2000, "steady_rate": 100}
# The peak offers 10% more than the target: carts for sold-out hot products are answered 409 and do not count
# as checkouts, so offering exactly 300/s could never show 300 checkouts/s.
PEAK_RATE = 1.1 * TARGETS["checkouts_per_s"]


@dataclass
class Results:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    accepted_keys: list[str] = field(default_factory=list)  # 201/202: each must end as exactly one order
    seconds: float = 0.0  # from the first request's start to the last one's end
    late_ms: list[float] = field(default_factory=list)  # open loop: how late the generator sent each request
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

    def checkout(self, results: Results, scheduled: float | None = None) -> None:
        """One checkout; its latency counts from `scheduled` (monotonic) when given, else from the send."""
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
        started = time.monotonic() if scheduled is None else scheduled
        if scheduled is not None:
            results.late_ms.append((time.monotonic() - scheduled) * 1000)
        try:
            self.conn.request("POST", "/api/orders/checkout", body, headers)
            resp = self.conn.getresponse()
            resp.read()
            status = resp.status
        except (OSError, http.client.HTTPException):
            self.conn.close()
            status = 599
        results.add(status, (time.monotonic() - started) * 1000, key)


def closed_loop(port: int, products: list[int], hot: list[int], clients: int, seconds: float) -> Results:
    results, start = Results(), time.monotonic()
    stop = start + seconds

    def run() -> None:
        client = Client(port, products, hot)
        while time.monotonic() < stop:
            client.checkout(results)

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results.seconds = time.monotonic() - start
    return results


def open_loop(port: int, products: list[int], hot: list[int], rate: float, seconds: float, connections: int) -> Results:
    """Requests are due on a fixed schedule regardless of how long earlier ones take, sent over `connections`
    keep-alive connections (like wrk2), and each one's latency counts from when it was due: a request that
    waits for a free connection is late, and that counts (no coordinated omission)."""
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
            due = start + n / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            client.checkout(results, scheduled=due)

    threads = [threading.Thread(target=run) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results.seconds = time.monotonic() - start
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


def lower_cpu_priority(pids: list[int], nice: int) -> str:
    """Give these processes `nice` against the rest; returns how. Under autogroup the session's nice is what
    counts (a thread's own nice only orders it within its session); without autogroup each thread's does."""
    autogroup = Path("/proc/sys/kernel/sched_autogroup_enabled")
    if autogroup.exists() and autogroup.read_text().strip() == "1":
        for pid in pids:
            Path(f"/proc/{pid}/autogroup").write_text(str(nice))
        return "autogroup"
    for pid in pids:
        for tid in os.listdir(f"/proc/{pid}/task"):
            os.setpriority(os.PRIO_PROCESS, int(tid), nice)
    return "threads"


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


def outbox_unsent(platform: CheckoutPlatform) -> int:
    return int(platform.sql(platform.orders_db, "SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL")[0]["n"])


def backlog(platform: CheckoutPlatform, sqs: Any) -> dict[str, int]:
    unsent = outbox_unsent(platform)
    d = sqsq.depth(sqs, platform.queues["orders"])
    pending = platform.sql(platform.orders_db, "SELECT COUNT(*) AS n FROM orders WHERE status = 'pending'")[0]["n"]
    return {"outbox_unsent": unsent, "orders_queue": d.visible + d.in_flight, "orders_pending": int(pending)}


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


def wait_idle(platform: CheckoutPlatform, sqs: Any, timeout: float) -> float:
    """Until nothing is left behind the checkout (outbox sent, every queue empty, e-mails included), so a phase
    does not pay for the previous one's backlog; returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        unsent = outbox_unsent(platform)
        if unsent == 0 and not any(
            d.visible or d.in_flight or d.delayed for d in (sqsq.depth(sqs, url) for url in platform.queues.values())
        ):
            break
        time.sleep(0.5)
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
    connections: int,
    groups: dict[str, list[int]],
) -> SteadyRun:
    """Open loop at `rate` for `seconds`, backlog sampled every 5 s, then a bounded drain and time to paid; the
    CPU cores each process used during the load say what the pipeline costs at that rate."""
    wait_idle(platform, sqs, 120)
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
    results = open_loop(port, products, hot, rate, seconds, connections)
    cores = cpu_cores(groups, cpu_before, time.monotonic() - t0)
    stop.set()
    sampler.join()
    drain_s = wait_settled(platform, 90)
    paid_ms = time_to_paid(platform, since)
    return SteadyRun(
        results,
        {
            **summary(results),
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


def summary(r: Results) -> dict[str, Any]:
    ok = r.statuses.get(201, 0) + r.statuses.get(202, 0)
    return {
        "requests": len(r.latencies_ms),
        "seconds": round(r.seconds, 1),
        "checkouts_per_s": round(ok / r.seconds, 1),
        "requests_per_s": round(len(r.latencies_ms) / r.seconds, 1),
        **{f"p{p}_ms": round(percentile(r.latencies_ms, p), 2) for p in (50, 90, 99)},
        "statuses": {str(k): v for k, v in sorted(r.statuses.items())},
        **({"generator_late_p99_ms": round(percentile(r.late_ms, 99), 2)} if r.late_ms else {}),
    }


def targets_met(peak: dict[str, Any], steady: dict[str, Any], books: dict[str, Any]) -> dict[str, bool]:
    paid_p99 = steady["time_to_paid_p99_ms"]
    return {
        "peak_checkouts_per_s": peak["checkouts_per_s"] >= TARGETS["checkouts_per_s"],
        "peak_p99_ms": peak["p99_ms"] <= TARGETS["p99_ms"],
        "steady_time_to_paid_p99_ms": paid_p99 is not None and paid_p99 <= TARGETS["time_to_paid_p99_ms"],
        # a flat backlog: the last steady order is paid within the time-to-paid bound of the run's end
        "steady_backlog_flat": steady["drain_after_s"] * 1000 <= TARGETS["time_to_paid_p99_ms"],
        "no_oversell_or_loss": books["oversold"] == 0 and books["lost_accepted_without_order"] == 0,
    }


def positive(kind: type[int] | type[float]) -> Callable[[str], int | float]:
    """An argparse type: a bad value stops the bench before it starts anything, naming the value."""

    def parse(text: str) -> int | float:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names it in "invalid int value: 'x'"
    return parse


def nice(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 19:
        raise argparse.ArgumentTypeError(f"must be a nice increment from 0 to 19, got {text}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apps.bench.checkout")
    parser.add_argument("--products", type=positive(int), default=20_000)
    parser.add_argument("--clients", type=positive(int), default=16, help="keep-alive connections of every phase")
    parser.add_argument("--peak-rate", type=positive(float), default=PEAK_RATE)
    parser.add_argument("--peak-s", type=positive(float), default=20)
    parser.add_argument("--saturation-s", type=positive(float), default=20)
    parser.add_argument(
        "--background-nice", type=nice, default=BACKGROUND_NICE, help="CPU nice of relay, workers, moto (0: equal)"
    )
    parser.add_argument("--steady-rate", type=positive(float), default=100)
    parser.add_argument("--steady-s", type=positive(float), default=30)
    parser.add_argument("--drain-s", type=positive(float), default=120)
    parser.add_argument("--low-rate", type=positive(float), default=20)
    parser.add_argument("--low-s", type=positive(float), default=20)
    parser.add_argument("--gunicorn-workers", type=positive(int), default=2)
    parser.add_argument("--gunicorn-threads", type=positive(int), default=8)
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
        initial = {p: 1_000_000 for p in products}

        def fresh_hot() -> list[int]:
            """Each phase gets its own hot products, so every phase sells some out under contention."""
            hot = platform.seed_products(HOT_PRODUCTS, stock=HOT_STOCK, price_cents=PRICE)
            initial.update(dict.fromkeys(hot, HOT_STOCK))
            return hot

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

        closed_loop(port, products, fresh_hot(), args.clients, 3)  # warm-up: pools, caches, connections
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
        background = [pid for name in BACKGROUND for pid in groups[name]]
        equal: Results | None = None
        if args.background_nice:
            # the same peak with the CPU shared equally between sessions (Linux's default), for comparison
            wait_idle(platform, sqs, args.drain_s)
            equal = open_loop(port, products, fresh_hot(), args.peak_rate, args.peak_s, args.clients)
            wait_settled(platform, args.drain_s)
        priority = lower_cpu_priority(background, args.background_nice) if args.background_nice else "none"

        runs = [
            steady_run(platform, sqs, port, products, fresh_hot(), rate, secs, args.clients, groups)
            for rate, secs in ((args.low_rate, args.low_s), (args.steady_rate, args.steady_s))
        ]
        steady = runs[-1]

        # the peak at the target rate: checkout latency while the backlog builds (the workers catch up after)
        wait_idle(platform, sqs, args.drain_s)
        cpu_before = cpu_seconds(groups)
        peak = open_loop(port, products, fresh_hot(), args.peak_rate, args.peak_s, args.clients)
        cpu = {k: round(v - cpu_before[k], 1) for k, v in cpu_seconds(groups).items()}
        machine_cpu_s = round(peak.seconds * (os.cpu_count() or 1), 1)
        backlog_after_peak = backlog(platform, sqs)
        drain_s = wait_settled(platform, args.drain_s)

        # saturation: as many checkouts as CLIENTS keep-alive clients get through
        wait_idle(platform, sqs, args.drain_s)
        saturation = closed_loop(port, products, fresh_hot(), args.clients, args.saturation_s)
        saturation_drain_s = wait_settled(platform, args.drain_s)

        loads = [peak, saturation, *(r.results for r in runs), *([equal] if equal else [])]
        checked = books(platform, initial, [k for r in loads for k in r.accepted_keys])
        load_end = os.getloadavg()
        check_alive(platform, procs)

        report = {
            "checkouts_per_s": summary(peak)["checkouts_per_s"],
            "p50_ms": summary(peak)["p50_ms"],
            "p99_ms": summary(peak)["p99_ms"],
            "time_to_paid_p99_ms": steady.report["time_to_paid_p99_ms"],
            "oversold": checked["oversold"],
            "lost": checked["lost_accepted_without_order"],
            "targets": TARGETS,
            "targets_met": targets_met(summary(peak), steady.report, checked),
            "peak": {**summary(peak), "offered_per_s": args.peak_rate},
            "peak_backlog_after": backlog_after_peak,
            "drain_after_peak_s": round(drain_s, 1),
            "peak_equal_cpu_shares": {**summary(equal), "offered_per_s": args.peak_rate} if equal else None,
            "saturation": {
                **summary(saturation),
                "clients": args.clients,
                "drain_after_s": round(saturation_drain_s, 1),
            },
            "unsettled_after_drain": checked["unsettled_pending"],
            "steady": steady.report,
            "steady_low_rate": runs[0].report,
            "moto_sqs_ceiling": broker,
            "books": checked,
            "cpu_seconds_during_peak": {**cpu, "machine_total_available": machine_cpu_s},
            "machine_load_avg_1m": {"start": round(load_start[0], 1), "end": round(load_end[0], 1)},
            "bare_transaction_per_s": round(bare, 1),
            # this machine's speed drifts by 2x within an hour (shared host): the saturation rate as a share of
            # the bare transaction measured in the same run, against the issue's own pair (300/s when the bare
            # one ran ~1,900/s), compares runs made at different speeds
            "saturation_vs_bare_transaction": {
                "measured": round(summary(saturation)["checkouts_per_s"] / bare, 3),
                "target": round(TARGETS["checkouts_per_s"] / BARE_AT_TARGET, 3),
            },
            "setup": {
                "cpus": os.cpu_count(),
                "catalog_products": len(initial),
                "hot_products_per_phase": {"count": HOT_PRODUCTS, "stock_each": HOT_STOCK, "traffic_share": HOT_SHARE},
                "gunicorn": {"workers": args.gunicorn_workers, "threads": args.gunicorn_threads},
                "worker_concurrency": 10,
                "background_tier": {"processes": list(BACKGROUND), "nice": args.background_nice, "via": priority},
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
