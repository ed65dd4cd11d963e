"""GDPR erasure of what the order side keeps about an account. accounts queues erasure requests on the
`privacy` queue as plain JSON (`{"type": "account.erasure_requested", "account_id": ...}`, see
apps/accounts/privacy_queue.py), not as Celery messages, so this worker is a plain SQS consumer with the
same guarantees as the Celery workers: a message is deleted only after it was handled, a failure leaves it
for redelivery and the redrive policy moves it to the DLQ after MAX_RECEIVES, SIGTERM finishes the current
batch (warm shutdown).

What it erases: the account's cart (deleted with cart's own `erase_account`, and its Redis entry invalidated)
and the account's orders, which are retained for accounting, so their personal data is pseudonymised (email,
payment token) rather than deleted. Both services also record the subject, so its still-unexpired session
tokens can no longer create carts or orders (apps/runtime/erasure.py). accounts erases its own tables itself.
Idempotent: erasing twice changes nothing more."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from apps.cart import repository as cart_repository
from apps.runtime import erasure
from apps.runtime.db import Cursor
from apps.workers.context import WorkerContext
from apps.workers.schema import UnsupportedSchema

log = logging.getLogger("peakshop.workers.privacy")
ERASURE_TYPES = frozenset({"account.erasure_requested"})  # the accepted message types (their schema versions)


def erase_user(ctx: WorkerContext, user_id: str) -> int:
    """Pseudonymise the account's orders and refuse its sessions from now on (one transaction)."""

    def work(cur: Cursor) -> int:
        erasure.record(cur, user_id)
        return cur.execute(
            "UPDATE orders SET email = %s, payment_token = 'erased' WHERE user_id = %s AND payment_token <> 'erased'",
            (erasure.erased_email(user_id), user_id),
        )

    return ctx.db.write(work)


def erase_cart(ctx: WorkerContext, account_id: int) -> None:
    cart_id = cart_repository.erase_account(ctx.cart_db, account_id)
    if cart_id:
        ctx.cart_cache.invalidate(ctx.cart_cache.key("cart", cart_id))


def handle(ctx: WorkerContext, body: dict[str, Any]) -> None:
    account_id = body.get("account_id")
    if body.get("type") not in ERASURE_TYPES or not isinstance(account_id, int) or isinstance(account_id, bool):
        raise UnsupportedSchema(f"not an erasure request: {str(body)[:200]}")
    erase_cart(ctx, account_id)
    erase_user(ctx, str(account_id))  # orders keeps the session subject: accounts issues the decimal account id


class ErasureConsumer:
    def __init__(self, ctx: WorkerContext, queue_url: str) -> None:
        self.ctx = ctx
        self.queue_url = queue_url
        self.sqs = ctx.aws_client("sqs")
        self.stop = threading.Event()

    def poll_once(self) -> int:
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=self.ctx.settings.wait_time_s,
            VisibilityTimeout=self.ctx.settings.visibility_timeout_s,
        ).get("Messages", [])
        done = 0
        for m in messages:
            try:
                body = json.loads(m["Body"])
                if not isinstance(body, dict):
                    raise UnsupportedSchema("message body is not a JSON object")
                handle(self.ctx, body)
            except Exception as exc:  # left in the queue: redelivered, then dead-lettered
                log.warning("erasure request failed", extra={"message_id": m.get("MessageId"), "error": str(exc)})
                self.ctx.metrics.tasks.labels(self.ctx.workload, "privacy.erasure", "failure").inc()
                continue
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
            self.ctx.metrics.tasks.labels(self.ctx.workload, "privacy.erasure", "success").inc()
            done += 1
        return done

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.poll_once()
            except Exception as exc:
                log.warning("privacy queue unavailable", extra={"error": str(exc)})
                self.stop.wait(self.ctx.backoff(2))
