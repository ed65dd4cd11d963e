"""Cart SQL. Every write locks the cart row first, so concurrent updates of one cart serialize and limits
(lines per cart, single currency) hold; setting a quantity is absolute, so a retried PUT converges."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from apps.runtime import erasure
from apps.runtime.db import Cursor, Database


class AccountErased(Exception):
    """A still-valid session token of an account the privacy worker has erased."""


def _refuse_erased(cur: Cursor, account_id: int) -> None:
    if erasure.is_erased(cur, str(account_id)):
        raise AccountErased()


class CartConflict(Exception):
    def __init__(self, slug: str, detail: str) -> None:
        super().__init__(detail)
        self.slug = slug
        self.detail = detail


@dataclass(frozen=True)
class Snapshot:
    product_id: int
    name: str
    unit_price_cents: int
    currency: str


def new_cart_id() -> str:
    return secrets.token_hex(16)


def create_anonymous(db: Database, idempotency_key: str | None = None) -> tuple[str, bool]:
    """A new anonymous cart; with an Idempotency-Key the id is derived from it, so a retried request gets the
    same cart (the key is a client-side random secret, and the id is as unguessable as the key)."""
    if idempotency_key is None:
        cart_id = new_cart_id()
    else:
        cart_id = hashlib.sha256(f"peakshop-cart:{idempotency_key}".encode()).hexdigest()[:32]
    created = db.execute("INSERT IGNORE INTO carts (id) VALUES (%s)", (cart_id,)) == 1
    return cart_id, created


def get_or_create_for_account(db: Database, account_id: int) -> tuple[str, bool]:
    def work(cur: Cursor) -> tuple[str, bool]:
        _refuse_erased(cur, account_id)
        created = (
            cur.execute("INSERT IGNORE INTO carts (id, account_id) VALUES (%s, %s)", (new_cart_id(), account_id)) == 1
        )
        cur.execute("SELECT id FROM carts WHERE account_id = %s", (account_id,))
        return str(cur.fetchone()["id"]), created

    return db.write(work)


def load_cart(db: Database, cart_id: str, ttl_s: int) -> dict[str, Any] | None:
    """The cart with its lines from the writer (carts are per-shopper and must be exact), None if absent or
    expired (updated longer than ttl_s ago)."""
    cart = db.query_one(
        "SELECT id, account_id, currency, updated_at, updated_at + INTERVAL %s SECOND AS expires_at FROM carts "
        "WHERE id = %s AND updated_at > NOW(6) - INTERVAL %s SECOND",
        (ttl_s, cart_id, ttl_s),
        fresh=True,
    )
    if cart is None:
        return None
    cart["items"] = db.query(
        "SELECT product_id, quantity, unit_price_cents, currency, name FROM cart_items WHERE cart_id = %s "
        "ORDER BY added_at, product_id",
        (cart_id,),
        fresh=True,
    )
    return cart


def set_quantity(db: Database, cart_id: str, snap: Snapshot, quantity: int, max_lines: int, ttl_s: int) -> bool:
    """Set a line's quantity (inserting it with the price snapshot if new). False if the cart is gone."""

    def work(cur: Cursor) -> bool:
        cur.execute(
            "SELECT currency FROM carts WHERE id = %s AND updated_at > NOW(6) - INTERVAL %s SECOND FOR UPDATE",
            (cart_id, ttl_s),
        )
        cart = cur.fetchone()
        if cart is None:
            return False
        cur.execute("SELECT product_id FROM cart_items WHERE cart_id = %s", (cart_id,))
        lines = {row["product_id"] for row in cur.fetchall()}
        if snap.product_id not in lines:
            if len(lines) >= max_lines:
                raise CartConflict("too-many-lines", f"a cart holds at most {max_lines} different products")
            if cart["currency"] not in (None, snap.currency) and lines:
                raise CartConflict("currency-mismatch", f"this cart is priced in {cart['currency']}")
            cur.execute(
                "INSERT INTO cart_items (cart_id, product_id, quantity, unit_price_cents, currency, name) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (cart_id, snap.product_id, quantity, snap.unit_price_cents, snap.currency, snap.name),
            )
            cur.execute("UPDATE carts SET currency = %s, updated_at = NOW(6) WHERE id = %s", (snap.currency, cart_id))
        else:
            cur.execute(
                "UPDATE cart_items SET quantity = %s WHERE cart_id = %s AND product_id = %s",
                (quantity, cart_id, snap.product_id),
            )
            cur.execute("UPDATE carts SET updated_at = NOW(6) WHERE id = %s", (cart_id,))
        return True

    return db.write(work)


def remove_item(db: Database, cart_id: str, product_id: int, ttl_s: int) -> bool:
    def work(cur: Cursor) -> bool:
        cur.execute(
            "SELECT id FROM carts WHERE id = %s AND updated_at > NOW(6) - INTERVAL %s SECOND FOR UPDATE",
            (cart_id, ttl_s),
        )
        if cur.fetchone() is None:
            return False
        cur.execute("DELETE FROM cart_items WHERE cart_id = %s AND product_id = %s", (cart_id, product_id))
        cur.execute("SELECT COUNT(*) AS n FROM cart_items WHERE cart_id = %s", (cart_id,))
        empty = cur.fetchone()["n"] == 0
        cur.execute(
            "UPDATE carts SET updated_at = NOW(6), currency = IF(%s, NULL, currency) WHERE id = %s", (empty, cart_id)
        )
        return True

    return db.write(work)


def merge_into_account(
    db: Database, anonymous_id: str, account_id: int, max_quantity: int, max_lines: int, ttl_s: int
) -> str | None:
    """Sign-in: move an anonymous cart's lines into the account's cart (created if needed) and delete it, in
    one transaction. A product in both adds up, capped at max_quantity, and keeps the account line's price
    snapshot. All or nothing: a merge that would break the line limit or mix currencies raises CartConflict.
    A retry after success returns the same cart (cart_merges); None for an unknown, expired or foreign cart.
    Locks the account cart before the anonymous one, so concurrent merges serialize without deadlocks."""

    def work(cur: Cursor) -> str | None:
        _refuse_erased(cur, account_id)
        cur.execute("INSERT IGNORE INTO carts (id, account_id) VALUES (%s, %s)", (new_cart_id(), account_id))
        cur.execute(
            "SELECT id, currency, updated_at <= NOW(6) - INTERVAL %s SECOND AS expired FROM carts "
            "WHERE account_id = %s FOR UPDATE",
            (ttl_s, account_id),
        )
        target = cur.fetchone()
        cur.execute("SELECT account_cart_id FROM cart_merges WHERE anonymous_id = %s", (anonymous_id,))
        done = cur.fetchone()
        if done is not None:
            return str(target["id"]) if done["account_cart_id"] == target["id"] else None
        cur.execute(
            "SELECT id FROM carts WHERE id = %s AND account_id IS NULL AND updated_at > NOW(6) - INTERVAL %s SECOND "
            "FOR UPDATE",
            (anonymous_id, ttl_s),
        )
        if cur.fetchone() is None:
            return None
        if target["expired"]:  # an abandoned account cart the expiry job has not removed yet starts empty
            cur.execute("DELETE FROM cart_items WHERE cart_id = %s", (target["id"],))
        cur.execute("SELECT product_id, currency FROM cart_items WHERE cart_id = %s", (target["id"],))
        existing = {row["product_id"]: row["currency"] for row in cur.fetchall()}
        cur.execute(
            "SELECT product_id, quantity, unit_price_cents, currency, name, added_at FROM cart_items "
            "WHERE cart_id = %s ORDER BY added_at, product_id",
            (anonymous_id,),
        )
        incoming = cur.fetchall()
        added = [line for line in incoming if line["product_id"] not in existing]
        if len(existing) + len(added) > max_lines:
            raise CartConflict("too-many-lines", f"the merged cart would hold more than {max_lines} products")
        currencies = set(existing.values()) | {line["currency"] for line in incoming}
        if len(currencies) > 1:
            raise CartConflict("currency-mismatch", f"the carts are priced in {', '.join(sorted(currencies))}")
        for line in incoming:
            if line["product_id"] in existing:
                cur.execute(
                    "UPDATE cart_items SET quantity = LEAST(quantity + %s, %s) WHERE cart_id = %s AND product_id = %s",
                    (line["quantity"], max_quantity, target["id"], line["product_id"]),
                )
            else:
                cur.execute(
                    "INSERT INTO cart_items (cart_id, product_id, quantity, unit_price_cents, currency, name, "
                    "added_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    (
                        target["id"],
                        line["product_id"],
                        min(line["quantity"], max_quantity),
                        line["unit_price_cents"],
                        line["currency"],
                        line["name"],
                        line["added_at"],
                    ),
                )
        currency = next(iter(currencies), None)
        cur.execute("UPDATE carts SET currency = %s, updated_at = NOW(6) WHERE id = %s", (currency, target["id"]))
        cur.execute(
            "INSERT INTO cart_merges (anonymous_id, account_cart_id) VALUES (%s, %s)", (anonymous_id, target["id"])
        )
        cur.execute("DELETE FROM carts WHERE id = %s", (anonymous_id,))
        return str(target["id"])

    return db.write(work)


def expire_abandoned(db: Database, ttl_s: int, batch: int = 500) -> list[str]:
    """Delete carts untouched for ttl_s (lines cascade), in small batches to keep locks short."""
    removed: list[str] = []
    while True:

        def work(cur: Cursor) -> list[str]:
            cur.execute(
                "SELECT id FROM carts WHERE updated_at <= NOW(6) - INTERVAL %s SECOND LIMIT %s FOR UPDATE",
                (ttl_s, batch),
            )
            ids = [row["id"] for row in cur.fetchall()]
            if ids:
                cur.execute(f"DELETE FROM carts WHERE id IN ({', '.join(['%s'] * len(ids))})", ids)
            return ids

        ids = db.write(work)
        removed += ids
        if len(ids) < batch:
            # Merge records only answer retries of a sign-in; past the cart TTL none is coming.
            db.execute("DELETE FROM cart_merges WHERE merged_at <= NOW(6) - INTERVAL %s SECOND", (ttl_s,))
            return removed


def erase_account(db: Database, account_id: int) -> str | None:
    """GDPR erasure: refuse the account's sessions from now on and delete its cart; returns the cart's id so
    caches can be invalidated."""

    def work(cur: Cursor) -> str | None:
        erasure.record(cur, str(account_id))
        cur.execute("SELECT id FROM carts WHERE account_id = %s FOR UPDATE", (account_id,))
        row = cur.fetchone()
        if row:
            cur.execute("DELETE FROM carts WHERE id = %s", (row["id"],))
        return row["id"] if row else None

    return db.write(work)
