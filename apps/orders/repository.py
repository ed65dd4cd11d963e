"""Order reads (routed: replica unless read-your-writes/lag says writer) and state transitions. Every
transition is a conditional update from the expected state, so a message handled twice changes nothing the
second time; the database trigger rejects any transition outside the state machine regardless."""

from __future__ import annotations

from typing import Any

from apps.orders.checkout import ORDER_COLUMNS, SCHEMA_NAME, add_outbox, load_order
from apps.runtime.db import Cursor, Database


def get_order(db: Database, order_id: str, fresh: bool = False) -> dict[str, Any] | None:
    order = db.query_one(f"SELECT {ORDER_COLUMNS} FROM orders WHERE id = %s", (order_id,), fresh=fresh)
    if order is None:
        return None
    lines = db.query(
        "SELECT product_id, quantity, unit_price_cents FROM order_lines WHERE order_id = %s ORDER BY product_id",
        (order_id,),
        fresh=fresh,
    )
    return {**order, "lines": lines}


def order_for_checkout(db: Database, scope: str, key: str, fresh: bool = False) -> dict[str, Any] | None:
    row = db.query_one("SELECT order_id FROM checkouts WHERE scope = %s AND idem_key = %s", (scope, key), fresh=fresh)
    return None if row is None else get_order(db, row["order_id"], fresh=fresh)


def list_orders(db: Database, user_id: str, limit: int) -> list[dict[str, Any]]:
    return db.query(
        f"SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = %s ORDER BY created_at DESC, id DESC LIMIT %s",
        (user_id, limit),
    )


def payment_details(db: Database, order_id: str) -> dict[str, Any] | None:
    """What the orders worker needs to charge: never exposed over HTTP (the token stays server-side)."""
    return db.query_one(
        "SELECT id, status, email, currency, total_cents, payment_token, card_last4 FROM orders WHERE id = %s",
        (order_id,),
        fresh=True,
    )


def mark_paid(db: Database, order_id: str) -> bool:
    def work(cur: Cursor) -> bool:
        cur.execute("UPDATE orders SET status = 'paid' WHERE id = %s AND status = 'pending'", (order_id,))
        if cur.rowcount != 1:
            return False
        add_outbox(cur, order_id, "order.paid")
        return True

    return db.write(work)


def mark_fulfilled(db: Database, order_id: str) -> str | None:
    """Returns the status before the call (None: no such order); only a paid order changes."""

    def work(cur: Cursor) -> str | None:
        cur.execute("SELECT status FROM orders WHERE id = %s FOR UPDATE", (order_id,))
        row = cur.fetchone()
        if row is None:
            return None
        if row["status"] == "paid":
            cur.execute("UPDATE orders SET status = 'fulfilled' WHERE id = %s", (order_id,))
        return str(row["status"])

    return db.write(work)


def cancel(db: Database, catalog: str, order_id: str, reason: str) -> bool:
    """pending -> cancelled, releasing the reserved stock in the same transaction. False if not pending."""
    if not SCHEMA_NAME.fullmatch(catalog):
        raise ValueError(f"bad catalog schema name {catalog!r}")

    def work(cur: Cursor) -> bool:
        cur.execute("SELECT status, stock_held FROM orders WHERE id = %s FOR UPDATE", (order_id,))
        row = cur.fetchone()
        if row is None or row["status"] != "pending":
            return False
        if row["stock_held"]:
            order = load_order(cur, order_id)
            assert order is not None
            for line in order["lines"]:  # already in product-id order: same lock order as checkout
                cur.execute(
                    f"UPDATE `{catalog}`.products SET stock = stock + %s WHERE id = %s",
                    (line["quantity"], line["product_id"]),
                )
        cur.execute(
            "UPDATE orders SET status = 'cancelled', reason = %s, stock_held = 0 WHERE id = %s", (reason, order_id)
        )
        add_outbox(cur, order_id, "order.cancelled")
        return True

    return db.write(work)
