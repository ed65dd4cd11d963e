"""The checkout transaction, shared by the web service (synchronous path) and the orders worker (requests
accepted while the writer was unreachable). In one writer transaction: claim the Idempotency-Key, reserve
stock with conditional updates that can never take stock below zero, insert the order and its lines at the
cart's price snapshot, and write the outbox row that starts payment.

Concurrency: the key claim is a primary-key insert, so concurrent retries of one key queue behind the first
and then read its order; stock rows are updated in product-id order so two carts never deadlock each other."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apps.runtime import erasure
from apps.runtime.db import Cursor

SCHEMA_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_.:-]{8,64}")


@dataclass(frozen=True)
class CheckoutRequest:
    scope: str  # "user:<id>" or "anon": whose key space the Idempotency-Key lives in
    key: str
    user_id: str | None
    body: dict[str, Any]

    @property
    def request_hash(self) -> str:
        canonical = json.dumps(self.body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def to_message(self) -> dict[str, Any]:
        return {"scope": self.scope, "key": self.key, "user_id": self.user_id, "body": self.body}

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> CheckoutRequest:
        return cls(data["scope"], data["key"], data["user_id"], data["body"])


@dataclass
class Rejection(Exception):
    """The cart cannot be ordered as it is; `reason` is also what a deferred order is cancelled with."""

    status: int
    reason: str
    detail: str
    extensions: dict[str, Any] = field(default_factory=dict)


class KeyReused(Exception):
    """Same Idempotency-Key, different request body."""


def validate_lines(body: dict[str, Any]) -> None:
    ids = [line["product_id"] for line in body["lines"]]
    if len(set(ids)) != len(ids):
        raise Rejection(422, "duplicate_product", "each product may appear once in the cart", {})


def _diagnose(cur: Cursor, catalog: str, line: dict[str, Any], currency: str) -> Rejection:
    cur.execute(
        f"SELECT stock, price_cents, currency, active FROM `{catalog}`.products WHERE id = %s", (line["product_id"],)
    )
    row = cur.fetchone()
    pid = line["product_id"]
    if row is None or not row["active"]:
        return Rejection(422, "unknown_product", f"product {pid} does not exist", {"product_id": pid})
    if row["price_cents"] != line["unit_price_cents"] or row["currency"] != currency:
        return Rejection(
            409,
            "price_changed",
            f"the price of product {pid} changed; refresh the cart",
            {"product_id": pid, "price_cents": row["price_cents"], "currency": row["currency"]},
        )
    return Rejection(
        409,
        "out_of_stock",
        f"only {row['stock']} of product {pid} left",
        {"product_id": pid, "available": row["stock"]},
    )


def place(cur: Cursor, catalog: str, req: CheckoutRequest, *, cancel_unfillable: bool = False) -> tuple[dict, bool]:
    """Returns (order, created). Raises KeyReused, or Rejection (the caller's transaction then rolls back)
    unless `cancel_unfillable`, in which case an unfillable cart becomes a cancelled order with the reason."""
    if not SCHEMA_NAME.fullmatch(catalog):
        raise ValueError(f"bad catalog schema name {catalog!r}")
    body = req.body
    order_id = uuid.uuid4().hex
    digest = req.request_hash
    cur.execute(
        "INSERT IGNORE INTO checkouts (scope, idem_key, request_hash, order_id) VALUES (%s, %s, %s, %s)",
        (req.scope, req.key, digest, order_id),
    )
    if cur.rowcount == 0:
        cur.execute(
            "SELECT request_hash, order_id FROM checkouts WHERE scope = %s AND idem_key = %s LOCK IN SHARE MODE",
            (req.scope, req.key),
        )
        first = cur.fetchone()
        if first["request_hash"] != digest:
            raise KeyReused()
        order = load_order(cur, first["order_id"])
        assert order is not None, "checkout row without its order"
        return order, False

    lines = sorted(body["lines"], key=lambda line: line["product_id"])
    currency = body["currency"]
    rejection: Rejection | None = None
    payment = body["payment"]
    email, payment_token = body["email"], payment["token"]
    if req.user_id is not None and erasure.is_erased(cur, req.user_id):
        rejection = Rejection(401, "account_erased", "the account was erased: its sessions can no longer order")
        if not cancel_unfillable:
            raise rejection
        email, payment_token = erasure.erased_email(req.user_id), "erased"  # accepted before: keep no personal data
    if cancel_unfillable:
        cur.execute("SAVEPOINT reserve")
    for line in lines if rejection is None else ():
        cur.execute(
            f"UPDATE `{catalog}`.products SET stock = stock - %s "
            "WHERE id = %s AND active = 1 AND stock >= %s AND price_cents = %s AND currency = %s",
            (line["quantity"], line["product_id"], line["quantity"], line["unit_price_cents"], currency),
        )
        if cur.rowcount != 1:
            rejection = _diagnose(cur, catalog, line, currency)
            if not cancel_unfillable:
                raise rejection
            cur.execute("ROLLBACK TO SAVEPOINT reserve")
            break

    now = datetime.now(UTC).replace(tzinfo=None)
    status, reason = ("cancelled", rejection.reason) if rejection else ("pending", "")
    total = sum(line["quantity"] * line["unit_price_cents"] for line in lines)
    cur.execute(
        "INSERT INTO orders (id, user_id, email, status, reason, stock_held, cart_id, currency, total_cents, "
        "payment_token, card_last4, created_at, updated_at) VALUES "
        "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            order_id,
            req.user_id,
            email,
            status,
            reason,
            0 if rejection else 1,
            body["cart_id"],
            currency,
            total,
            payment_token,
            payment["card_last4"],
            now,
            now,
        ),
    )
    cur.executemany(
        "INSERT INTO order_lines (order_id, product_id, quantity, unit_price_cents) VALUES (%s, %s, %s, %s)",
        [(order_id, line["product_id"], line["quantity"], line["unit_price_cents"]) for line in lines],
    )
    add_outbox(cur, order_id, "order.cancelled" if rejection else "order.placed")
    order = {
        "id": order_id,
        "status": status,
        "reason": reason,
        "currency": currency,
        "total_cents": total,
        "card_last4": payment["card_last4"],
        "lines": [{k: line[k] for k in ("product_id", "quantity", "unit_price_cents")} for line in lines],
        "created_at": now,
        "updated_at": now,
        "user_id": req.user_id,
    }
    return order, True


def add_outbox(cur: Cursor, order_id: str, topic: str, **extra: Any) -> None:
    cur.execute(
        "INSERT INTO outbox (order_id, topic, payload) VALUES (%s, %s, %s)",
        (order_id, topic, json.dumps({"order_id": order_id, **extra})),
    )


ORDER_COLUMNS = "id, user_id, status, reason, currency, total_cents, card_last4, created_at, updated_at"


def load_order(cur: Cursor, order_id: str) -> dict[str, Any] | None:
    cur.execute(f"SELECT {ORDER_COLUMNS} FROM orders WHERE id = %s", (order_id,))
    order = cur.fetchone()
    if order is None:
        return None
    cur.execute(
        "SELECT product_id, quantity, unit_price_cents FROM order_lines WHERE order_id = %s ORDER BY product_id",
        (order_id,),
    )
    return {**order, "lines": list(cur.fetchall())}
