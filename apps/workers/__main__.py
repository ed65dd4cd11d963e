"""`python -m apps.workers <workload>`: run one Celery worker workload (orders-worker, notifications-worker,
media-worker, privacy-worker) consuming the queues stacks/workloads.py assigns to it. A configuration error
exits with status 4 and a message naming each bad variable."""

from __future__ import annotations

import importlib
import logging
import signal
import sys

from apps.payments.config import PROVIDER_SETTINGS
from apps.runtime import logs
from apps.runtime.config import ConfigError, Setting, Settings, integer, mysql_url, redis_url, text
from apps.runtime.entry import CONFIG_EXIT_STATUS
from apps.workers.celery_app import make_celery
from apps.workers.config import DB_SETTINGS, load_worker_settings, queue_urls, workload
from apps.workers.context import WorkerContext
from apps.workers.queues import sqs_client
from apps.workers.tasks.privacy import ErasureConsumer

SCHEMA = Setting("CATALOG_SCHEMA", text(1), None, "Database holding catalog's products (stock is released there)")
EXTRA_SETTINGS: dict[str, tuple[Setting, ...]] = {
    "orders-worker": (
        *DB_SETTINGS,
        *PROVIDER_SETTINGS,
        SCHEMA,
        Setting("PAYMENTS_DB_URL", mysql_url, None, "Payments database (the ledger)", True),
        Setting("WRITER_WAIT_RETRIES", integer(1, 1000), "60", "Retries while the writer fails over"),
    ),
    "notifications-worker": (
        *DB_SETTINGS,
        Setting("MAIL_SINK", text(0), "", "Write emails to this file instead of SES (local only)"),
        Setting("SES_SENDER", text(0), "orders@peakshop.example", "Verified SES sender address"),
    ),
    "media-worker": (
        Setting("MEDIA_BUCKET", text(3), None, "Bucket with product media and thumbnails"),
        Setting("THUMBNAIL_PX", integer(16, 2048), "320", "Longest side of a thumbnail"),
    ),
    "privacy-worker": (
        *DB_SETTINGS,
        Setting("CART_DB_URL", mysql_url, None, "Cart database (the account's cart is deleted)", True),
        Setting("REDIS_URL", redis_url, None, "Cache holding cart views (the erased cart's entry is removed)"),
        Setting("REDIS_IAM_GROUP", text(), "", "ElastiCache replication group: AUTH as the URL's user with IAM tokens"),
    ),
}
TASK_MODULES = {
    "orders-worker": "apps.workers.tasks.orders",
    "notifications-worker": "apps.workers.tasks.notifications",
    "media-worker": "apps.workers.tasks.media",
}
WORKLOADS = (*TASK_MODULES, "privacy-worker")


def run_privacy(settings: Settings) -> int:
    """accounts' erasure requests are plain JSON on SQS, so this workload is a plain SQS consumer."""
    ctx = WorkerContext("privacy-worker", settings)
    consumer = ErasureConsumer(ctx, queue_urls(settings, "privacy-worker")["privacy"])
    for sig in (signal.SIGTERM, signal.SIGINT):  # warm shutdown: finish the batch in hand, then exit
        signal.signal(sig, lambda *_: consumer.stop.set())
    ctx.metrics.watch_queues(consumer.sqs, {"privacy": consumer.queue_url})
    ctx.metrics.serve(settings.metrics_port)
    consumer.run()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in WORKLOADS:
        print(f"usage: python -m apps.workers {{{','.join(WORKLOADS)}}}", file=sys.stderr)
        return 2
    name = args[0]
    try:
        settings = load_worker_settings(name, EXTRA_SETTINGS[name])
    except ConfigError as exc:
        print(f"{name}: {exc}", file=sys.stderr, flush=True)
        return CONFIG_EXIT_STATUS
    logs.configure(name, settings.log_level)
    if name == "privacy-worker":
        return run_privacy(settings)
    urls = queue_urls(settings, name)
    app = make_celery(
        name,
        urls,
        settings.aws_endpoint_url,
        settings.aws_region,
        settings.visibility_timeout_s,
        settings.task_time_limit_s,
        settings.wait_time_s,
    )
    ctx = WorkerContext(name, settings)
    importlib.import_module(TASK_MODULES[name]).register(app, ctx)
    consumed = workload(name).consumes
    ctx.metrics.hook_celery()
    ctx.metrics.watch_queues(sqs_client(settings.aws_endpoint_url, settings.aws_region), {q: urls[q] for q in consumed})
    ctx.metrics.serve(settings.metrics_port)
    logging.getLogger("peakshop.workers").info("starting", extra={"queues": consumed})
    app.worker_main(
        [
            "worker",
            "-Q",
            ",".join(consumed),
            "-P",
            settings.pool,
            "-c",
            str(settings.concurrency),
            "-n",
            f"{name}@%h",
            "-l",
            settings.log_level,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
