"""Order emails through an SES adapter (locally a mail sink file). At-least-once delivery with a dedupe
record per (order, event): a redelivered message does not send a second email unless the worker died
between sending and recording, the one window no mail API lets us close."""

from __future__ import annotations

import fcntl
import json
from pathlib import Path
from typing import Any, Protocol

from celery import Celery

from apps.orders import repository as repo
from apps.workers import schema
from apps.workers.context import WorkerContext

SUBJECTS = {
    "order.paid": "Your Peakshop order is confirmed",
    "order.cancelled": "Your Peakshop order was cancelled",
}


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None: ...


class SesMailer:
    def __init__(self, ses: Any, sender: str) -> None:
        self.ses = ses
        self.sender = sender

    def send(self, to: str, subject: str, body: str) -> None:
        self.ses.send_email(
            Source=self.sender,
            Destination={"ToAddresses": [to]},
            Message={"Subject": {"Data": subject}, "Body": {"Text": {"Data": body}}},
        )


class FileMailer:
    """Local sink: one JSON object per line, appended under an exclusive lock."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, to: str, subject: str, body: str) -> None:
        with self.path.open("a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.write(json.dumps({"to": to, "subject": subject, "body": body}) + "\n")


def mailer_for(ctx: WorkerContext) -> Mailer:
    s = ctx.settings
    return FileMailer(Path(s.mail_sink)) if s.mail_sink else SesMailer(ctx.aws_client("ses"), s.ses_sender)


def order_email(ctx: WorkerContext, mailer: Mailer, order_id: str, event: str) -> str:
    dedupe = f"{order_id}:{event}"
    if ctx.db.query_one("SELECT 1 AS x FROM notifications_sent WHERE dedupe_key = %s", (dedupe,), fresh=True):
        return "duplicate"
    order = repo.payment_details(ctx.db, order_id)
    if order is None:
        raise LookupError(f"order {order_id} not found")
    total = f"{int(order['total_cents']) / 100:.2f} {order['currency']}"
    mailer.send(order["email"], SUBJECTS[event], f"Order {order_id}: {order['status']}, total {total}.")
    ctx.db.execute("INSERT IGNORE INTO notifications_sent (dedupe_key) VALUES (%s)", (dedupe,))
    return "sent"


def register(app: Celery, ctx: WorkerContext) -> None:
    mailer = mailer_for(ctx)

    @app.task(bind=True, name=schema.ORDER_EMAIL, max_retries=ctx.settings.max_retries)
    @schema.versioned(schema.ORDER_EMAIL)
    def send_order_email(self: Any, order_id: str, event: str) -> str:
        if event not in SUBJECTS:
            raise schema.UnsupportedSchema(f"unknown order event {event!r}")
        try:
            return order_email(ctx, mailer, order_id, event)
        except OSError as exc:
            raise self.retry(exc=exc, countdown=ctx.backoff(self.request.retries)) from None
