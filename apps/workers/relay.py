"""`python -m apps.workers.relay`: the outbox relay, its own process (workload `outbox-relay`).

Publishes outbox rows to SQS as Celery task messages and marks them sent: at-least-once (a crash after the
publish and before the mark republishes; handlers are idempotent), in id order per order (a failed publish
holds back that order's later rows), retried with backoff. One relay is active at a time, elected with a
MySQL named lock held by its session, so replicas are hot standbys and a dead leader's lock frees itself."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pymysql
from celery import Celery

from apps.runtime import logs
from apps.runtime.config import ConfigError, Setting, integer, number
from apps.runtime.db import Database
from apps.runtime.entry import CONFIG_EXIT_STATUS
from apps.workers import schema
from apps.workers.celery_app import make_celery
from apps.workers.config import DB_SETTINGS, load_worker_settings, queue_urls
from apps.workers.context import WorkerContext, backoff_s

NAME = "outbox-relay"
LOCK = "peakshop-outbox-relay"
log = logging.getLogger("peakshop.relay")

# topic -> the tasks it starts (task name, payload builder)
ROUTES: dict[str, tuple[tuple[str, Callable[[dict[str, Any]], dict[str, Any]]], ...]] = {
    "order.placed": ((schema.SETTLE_ORDER, lambda p: {"order_id": p["order_id"]}),),
    "order.paid": ((schema.ORDER_EMAIL, lambda p: {"order_id": p["order_id"], "event": "order.paid"}),),
    "order.cancelled": ((schema.ORDER_EMAIL, lambda p: {"order_id": p["order_id"], "event": "order.cancelled"}),),
}
SETTINGS: tuple[Setting, ...] = (
    *DB_SETTINGS,
    Setting("BATCH", integer(1, 1000), "200", "Outbox rows per poll"),
    Setting("POLL_S", number(0.005, 10), "0.1", "Pause after a poll that found fewer than BATCH rows"),
    Setting("RETENTION_H", integer(1, 24 * 30), "24", "Sent rows are purged after this many hours"),
)


class _Collector:
    """Keeps SendMessage calls for batching; every other SQS call goes to the real client."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[dict[str, Any]] = []

    def send_message(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


@dataclass
class Row:
    id: int
    order_id: str
    topic: str
    payload: dict[str, Any]


class Relay:
    def __init__(self, db: Database, celery: Celery, ctx: WorkerContext) -> None:
        self.db = db
        self.celery = celery
        self.ctx = ctx
        s = ctx.settings
        self.batch, self.poll_s, self.retention_h = s.batch, s.poll_s, s.retention_h
        self.stop = threading.Event()
        self._lock_conn: pymysql.Connection | None = None
        self._failures = 0
        self.sqs = ctx.aws_client("sqs")
        self._senders = ThreadPoolExecutor(max_workers=len(ROUTES), thread_name_prefix="relay-send")  # >= queues
        # kombu builds each message (Celery protocol, encodings) and hands SendMessage's arguments to the SQS
        # client of the queue; with a collecting stand-in for that client the relay sends them in batches of 10.
        self._collector = _Collector(self.sqs)
        connection = celery.connection_for_write()
        self._producer = connection.Producer()
        self._producer.channel.connection._predefined_queue_clients.update(
            {q: self._collector for q in celery.conf.broker_transport_options["predefined_queues"]}
        )

    # leadership --------------------------------------------------------------------------------------------
    def is_leader(self) -> bool:
        try:
            if self._lock_conn is None:
                self._lock_conn = self.db.writer.connect()
                with self._lock_conn.cursor() as cur:
                    cur.execute("SELECT GET_LOCK(%s, 0) AS got", (LOCK,))
                    if cur.fetchone()["got"] != 1:
                        self._lock_conn.close()
                        self._lock_conn = None
                        return False
                log.info("relay leadership acquired")
            else:
                self._lock_conn.ping(reconnect=False)
            return True
        except Exception as exc:
            log.warning("relay lock lost or unavailable", extra={"error": str(exc)})
            if self._lock_conn is not None:
                with contextlib.suppress(Exception):
                    self._lock_conn.close()
            self._lock_conn = None
            return False

    # one poll -----------------------------------------------------------------------------------------------
    def fetch(self) -> list[Row]:
        rows = self.db.query(
            "SELECT id, order_id, topic, payload FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT %s",
            (self.batch,),
            fresh=True,
        )
        return [Row(int(r["id"]), r["order_id"], r["topic"], json.loads(r["payload"])) for r in rows]

    def encode(self, row: Row) -> list[tuple[str, dict[str, Any]]]:
        """The SendMessage arguments of the row's task messages, built by kombu exactly as a normal publish."""
        self._collector.calls.clear()
        for task, build in ROUTES.get(row.topic, ()):
            payload = {"v": schema.CURRENT[task], **build(row.payload)}
            self.celery.send_task(task, kwargs=payload, task_id=f"outbox-{row.id}-{task}", producer=self._producer)
        return [(call["QueueUrl"], call) for call in self._collector.calls]

    def publish(self, rows: list[Row]) -> list[int]:
        """Send the rows' messages in SendMessageBatch calls; returns the ids that may be marked sent: per order,
        the rows before its first failure (a later row of that order is sent again next time, never first)."""
        entries: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for row in rows:
            for url, call in self.encode(row):
                entry = {k: v for k, v in call.items() if k != "QueueUrl"}
                entries.setdefault(url, []).append((row.id, entry))
        # queues are sent to in parallel (one queue's batches stay in order): a poll waits for the slowest queue,
        # not for the sum of them
        failed_rows: set[int] = set().union(*self._senders.map(self._send_queue, entries, entries.values()))
        done: list[int] = []
        blocked: set[str] = set()
        for row in rows:  # id order
            if row.order_id in blocked or row.id in failed_rows:
                blocked.add(row.order_id)
                continue
            done.append(row.id)
            self.ctx.metrics.published.labels(row.topic).inc()
        if failed_rows:
            self.ctx.metrics.publish_errors.inc(len(failed_rows))
        return done

    def _send_queue(self, url: str, items: list[tuple[int, dict[str, Any]]]) -> set[int]:
        """SendMessageBatch calls of up to 10, in order; returns the rows whose message was not accepted."""
        failed: set[int] = set()
        for i in range(0, len(items), 10):
            chunk = items[i : i + 10]
            try:
                answer = self.sqs.send_message_batch(
                    QueueUrl=url, Entries=[{"Id": str(n), **e} for n, (_, e) in enumerate(chunk)]
                )
                failed |= {chunk[int(f["Id"])][0] for f in answer.get("Failed", [])}
            except Exception as exc:
                log.warning("publish failed", extra={"error": str(exc), "rows": [r for r, _ in chunk]})
                failed |= {r for r, _ in chunk}
        return failed

    def run_once(self) -> int:
        rows = self.fetch()
        self.ctx.metrics.backlog.set(len(rows))
        if not rows:
            return 0
        sent = self.publish(rows)
        if sent:
            placeholders = ",".join(["%s"] * len(sent))
            self.db.execute(f"UPDATE outbox SET sent_at = NOW(6) WHERE id IN ({placeholders})", sent)
        failed = [r.id for r in rows if r.id not in set(sent)]
        if failed:
            placeholders = ",".join(["%s"] * len(failed))
            self.db.execute(f"UPDATE outbox SET attempts = attempts + 1 WHERE id IN ({placeholders})", failed)
            raise RuntimeError(f"{len(failed)} outbox rows not published")
        return len(sent)

    def purge(self) -> None:
        self.db.execute(
            "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < NOW(6) - INTERVAL %s HOUR LIMIT 1000",
            (self.retention_h,),
        )

    def run(self) -> None:
        last_purge = 0.0
        while not self.stop.is_set():
            if not self.is_leader():
                self.stop.wait(1.0)
                continue
            try:
                n = self.run_once()
                self._failures = 0
                if time.monotonic() - last_purge > 60:
                    self.purge()
                    last_purge = time.monotonic()
                if n < self.batch:
                    self.stop.wait(self.poll_s)
            except Exception as exc:
                self._failures += 1
                delay = backoff_s(min(self._failures, 6), 0.2, cap=10)
                log.warning("relay poll failed, backing off", extra={"error": str(exc), "delay_s": round(delay, 2)})
                self.stop.wait(delay)
        if self._lock_conn is not None:
            self._lock_conn.close()
        self._senders.shutdown()


def main() -> int:
    try:
        settings = load_worker_settings(NAME, SETTINGS)
    except ConfigError as exc:
        print(f"{NAME}: {exc}", file=sys.stderr, flush=True)
        return CONFIG_EXIT_STATUS
    logs.configure(NAME, settings.log_level)
    ctx = WorkerContext(NAME, settings)
    celery = make_celery(
        NAME,
        queue_urls(settings, NAME),
        settings.aws_endpoint_url,
        settings.aws_region,
        settings.visibility_timeout_s,
        settings.task_time_limit_s,
    )
    relay = Relay(ctx.db, celery, ctx)
    for sig in (signal.SIGTERM, signal.SIGINT):  # finish the current batch, release the lock, exit
        signal.signal(sig, lambda *_: relay.stop.set())
    ctx.metrics.serve(settings.metrics_port)
    log.info("outbox relay starting")
    relay.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
