"""Order processing: place checkouts accepted while the writer was down, and settle placed orders
(authorize + capture, then paid; or cancel and release stock). Every step is idempotent on the order ID."""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery

from apps.orders import repository as repo
from apps.orders.checkout import CheckoutRequest, KeyReused, place
from apps.payments.provider import ProviderTimeout
from apps.runtime.db import DatabaseUnavailable
from apps.workers import schema
from apps.workers.context import WorkerContext

log = logging.getLogger("peakshop.workers.orders")


class OrderMissing(LookupError):
    """A settle message for an order that does not exist: poison (DLQ), never silently dropped."""


def settle(ctx: WorkerContext, order_id: str) -> str:
    order = repo.payment_details(ctx.db, order_id)
    if order is None:
        raise OrderMissing(order_id)
    if order["status"] != "pending":
        return str(order["status"])  # already settled: a redelivered message has no second effect
    auth = ctx.ledger.authorize(
        order_id, int(order["total_cents"]), order["currency"], order["payment_token"], order["card_last4"]
    )
    if not auth.approved:
        repo.cancel(ctx.db, ctx.settings.catalog_schema, order_id, "payment_declined")
        return "cancelled"
    ctx.ledger.capture(order_id)
    repo.mark_paid(ctx.db, order_id)
    return "paid"


def give_up_on_payment(ctx: WorkerContext, order_id: str) -> str:
    """The provider never answered: void whatever it may hold, cancel, release the stock."""
    ctx.ledger.void(order_id)
    repo.cancel(ctx.db, ctx.settings.catalog_schema, order_id, "payment_timeout")
    return "cancelled"


def register(app: Celery, ctx: WorkerContext) -> None:
    s = ctx.settings

    @app.task(bind=True, name=schema.PLACE_ORDER, max_retries=s.writer_wait_retries)
    @schema.versioned(schema.PLACE_ORDER)
    def place_order(self: Any, **message: Any) -> str:
        req = CheckoutRequest.from_message(message)
        try:
            order, _ = ctx.db.write(lambda cur: place(cur, s.catalog_schema, req, cancel_unfillable=True))
        except DatabaseUnavailable as exc:  # still failing over: wait (a retry is a new message, not a receive)
            raise self.retry(exc=exc, countdown=ctx.backoff(min(self.request.retries, 4))) from None
        except KeyReused:
            log.warning("deferred checkout reuses a key with another body; the first checkout stands")
            return "key_reused"
        return str(order["status"])

    @app.task(bind=True, name=schema.SETTLE_ORDER, max_retries=s.max_retries)
    @schema.versioned(schema.SETTLE_ORDER)
    def settle_order(self: Any, order_id: str) -> str:
        try:
            return settle(ctx, order_id)
        except ProviderTimeout as exc:
            if self.request.retries >= s.max_retries:
                return give_up_on_payment(ctx, order_id)
            raise self.retry(exc=exc, countdown=ctx.backoff(self.request.retries)) from None
        except DatabaseUnavailable as exc:  # a failover is waited out, like in place_order
            raise self.retry(
                exc=exc, countdown=ctx.backoff(min(self.request.retries, 4)), max_retries=s.writer_wait_retries
            ) from None
