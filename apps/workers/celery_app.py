"""The Celery application on SQS, configured the same way for every producer and consumer.

Delivery guarantees: tasks are acknowledged late (after they finish; the deletes go out in batches, see
sqs_transport.py), a failed or crashed task is not acknowledged so SQS redelivers it after the visibility
timeout, and the queues' redrive policy moves a message that failed MAX_RECEIVES times to its DLQ. Retries
inside a task are bounded with exponential backoff. SIGTERM is Celery's warm shutdown: stop fetching, finish
running tasks, exit."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from celery import Celery
from kombu import Queue

from apps.workers.config import broker_url

TASK_ROUTES = {
    "orders.*": {"queue": "orders"},
    "notifications.*": {"queue": "notifications"},
    "media.*": {"queue": "media"},
}


def make_celery(
    name: str,
    queues: dict[str, str],
    endpoint_url: str,
    region: str,
    visibility_timeout_s: int,
    task_time_limit_s: int,
    wait_time_s: int = 10,
    include: tuple[str, ...] = (),
) -> Celery:
    app = Celery(name, include=list(include))
    secure = urlsplit(endpoint_url).scheme == "https" if endpoint_url else True
    app.conf.update(
        broker_url=broker_url(
            endpoint_url, os.environ.get("AWS_ACCESS_KEY_ID", ""), os.environ.get("AWS_SECRET_ACCESS_KEY", "")
        ),
        broker_transport="apps.workers.sqs_transport:Transport",  # kombu's SQS, acks batched off the event loop
        broker_transport_options={
            "region": region,
            "is_secure": secure,
            "predefined_queues": {q: {"url": url} for q, url in queues.items()},
            "visibility_timeout": visibility_timeout_s,
            "wait_time_seconds": wait_time_s,
            "polling_interval": 0.1,
        },
        broker_connection_retry_on_startup=True,
        task_queues=[Queue(q) for q in queues],
        task_default_queue=next(iter(queues)),
        task_routes=TASK_ROUTES,
        task_create_missing_queues=False,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        result_backend=None,
        task_acks_late=True,
        task_acks_on_failure_or_timeout=False,  # a failure leaves the message for redelivery -> DLQ
        task_reject_on_worker_lost=True,
        # a worker reserves up to 4 messages per pool slot, so the next batch arrives while tasks run: with 1, a
        # full pool left kombu idle for polling_interval after each batch and capped a worker near 75 tasks/s
        worker_prefetch_multiplier=4,
        task_time_limit=task_time_limit_s,
        task_soft_time_limit=max(1, task_time_limit_s - 5),
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        worker_enable_remote_control=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        task_send_sent_event=False,
    )
    return app


def send(app: Celery, task: str, version: int, payload: dict[str, Any], task_id: str | None = None) -> str:
    """Publish a task message carrying its schema version (the consumer refuses versions it does not know)."""
    result = app.send_task(task, kwargs={"v": version, **payload}, task_id=task_id)
    return str(result.id)
