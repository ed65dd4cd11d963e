"""The data audit after a scenario settles: every checkout acknowledged to a client (201/200 with an order,
or 202 accepted) must be an order in the database (else lost); no cart may have two orders, no order two
payments captures or two copies of one email (duplicated); no product may sell more than it had (oversold);
no order of the scenario may still be pending (stuck)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql

from apps.drills.loadgen import Checkout
from apps.platform.inventory import database
from apps.platform.secrets_store import SecretStore
from apps.platform.settings import LocalSettings

ACKNOWLEDGED = (200, 201, 202)


@dataclass
class AuditResult:
    acknowledged: int = 0
    placed: int = 0
    lost: int = 0
    duplicated: int = 0
    oversold: int = 0
    stuck: int = 0
    detail: dict[str, Any] = field(default_factory=dict)


class Auditor:
    def __init__(self, s: LocalSettings) -> None:
        self.s = s
        self.password = SecretStore(s.secrets_file).get("mysql_admin")

    def connect(self, service: str) -> pymysql.Connection:
        return pymysql.connect(
            host="127.0.0.1",
            port=self.s.mysql_writer_endpoint,
            user="admin",
            password=self.password,
            database=database(service),
            autocommit=True,
            connect_timeout=5,
            cursorclass=pymysql.cursors.DictCursor,
        )

    def query(self, service: str, sql: str, args: Any = None) -> list[dict[str, Any]]:
        with contextlib.closing(self.connect(service)) as conn, conn.cursor() as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())

    def stock(self, product_ids: list[int]) -> dict[int, int]:
        marks = ",".join(["%s"] * len(product_ids))
        rows = self.query("catalog", f"SELECT id, stock FROM products WHERE id IN ({marks})", product_ids)
        return {int(r["id"]): int(r["stock"]) for r in rows}

    def mail_lines(self) -> int:
        path = self.s.logs / "mail.jsonl"
        return sum(1 for _ in path.open()) if path.exists() else 0

    # ------------------------------------------------------------------------------------------------ settle
    def orders_for(self, checkouts: list[Checkout]) -> tuple[dict[str, str], list[dict[str, Any]]]:
        """Idempotency key -> order id (from the checkouts table), and the orders of these carts."""
        if not checkouts:
            return {}, []
        keys = [c.key for c in checkouts]
        carts = [c.cart_id for c in checkouts]
        by_key: dict[str, str] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join(["%s"] * len(chunk))
            sql = f"SELECT idem_key, order_id FROM checkouts WHERE idem_key IN ({marks})"
            for row in self.query("orders", sql, chunk):
                by_key[row["idem_key"]] = row["order_id"]
        orders: list[dict[str, Any]] = []
        for start in range(0, len(carts), 500):
            chunk = carts[start : start + 500]
            marks = ",".join(["%s"] * len(chunk))
            orders += self.query(
                "orders",
                f"SELECT o.id, o.cart_id, o.status, o.stock_held, l.product_id, l.quantity FROM orders o"
                f" JOIN order_lines l ON l.order_id = o.id WHERE o.cart_id IN ({marks})",
                chunk,
            )
        return by_key, orders

    def settle(self, checkouts: list[Checkout], timeout: float, patience: float) -> float:
        """Wait until every acknowledged checkout is an order and none is pending, or until the backlog
        stops shrinking for `patience` seconds (then what is left is stuck); returns seconds waited."""
        acked = [c for c in checkouts if c.status in ACKNOWLEDGED]
        started = last_progress = time.monotonic()
        best: int | None = None
        while time.monotonic() - started < timeout:
            with contextlib.suppress(pymysql.MySQLError):
                by_key, orders = self.orders_for(acked)
                waiting = len(acked) - len(by_key) + len({o["id"] for o in orders if o["status"] == "pending"})
                if waiting == 0:
                    break
                if best is None or waiting < best:
                    best, last_progress = waiting, time.monotonic()
            if time.monotonic() - last_progress > patience:
                break
            time.sleep(1)
        return time.monotonic() - started

    # ------------------------------------------------------------------------------------------------- audit
    def audit(self, checkouts: list[Checkout], stock_before: dict[int, int], mail_offset: int) -> AuditResult:
        result = AuditResult()
        acked = [c for c in checkouts if c.status in ACKNOWLEDGED]
        result.acknowledged = len(acked)
        by_key, orders = self.orders_for(checkouts)
        lost_keys = [c.key for c in acked if c.key not in by_key]
        wrong_order = [c.key for c in acked if c.order_id and by_key.get(c.key) not in (None, c.order_id)]
        result.placed = len(by_key)
        result.lost = len(lost_keys) + len(wrong_order)
        order_ids = {o["id"] for o in orders}
        per_cart = Counter(o["cart_id"] for o in {o["id"]: o for o in orders}.values())
        dup_orders = sum(n - 1 for n in per_cart.values() if n > 1)
        dup_mails = self._duplicate_mails(order_ids, mail_offset)
        dup_captures = self._duplicate_captures({o["id"]: o["cart_id"] for o in orders})
        result.duplicated = dup_orders + dup_mails + dup_captures
        sold: Counter[int] = Counter()
        for o in orders:
            if o["status"] != "cancelled":
                sold[int(o["product_id"])] += int(o["quantity"])
        stock_after = self.stock(list(stock_before)) if stock_before else {}
        oversold = {pid: sold[pid] - stock_before[pid] for pid in sold if sold[pid] > stock_before.get(pid, 0)}
        drift = {
            pid: {"before": stock_before[pid], "sold": sold[pid], "after": stock_after.get(pid)}
            for pid in stock_before
            if stock_after.get(pid) is not None and stock_before[pid] - sold[pid] != stock_after[pid]
        }
        result.oversold = sum(oversold.values())
        result.stuck = sum(1 for o in {o["id"]: o for o in orders}.values() if o["status"] == "pending")
        statuses = Counter(o["status"] for o in {o["id"]: o for o in orders}.values())
        result.detail = {
            "acknowledged": result.acknowledged,
            "deferred_202": sum(1 for c in acked if c.status == 202),
            "orders": dict(statuses),
            "lost_keys": lost_keys[:10],
            "duplicates": {"orders": dup_orders, "emails": dup_mails, "payment_captures": dup_captures},
            "oversold_products": oversold,
            "stock_drift": dict(list(drift.items())[:10]),
        }
        return result

    def _duplicate_mails(self, order_ids: set[str], offset: int) -> int:
        path = self.s.logs / "mail.jsonl"
        if not path.exists():
            return 0
        seen: Counter[tuple[str, str]] = Counter()
        with path.open() as fh:
            for index, line in enumerate(fh):
                if index < offset:
                    continue
                with contextlib.suppress(ValueError, KeyError):
                    mail = json.loads(line)
                    order = mail["body"].split(":", 1)[0].removeprefix("Order ").strip()
                    if order in order_ids:
                        seen[(order, mail["subject"])] += 1
        return sum(n - 1 for n in seen.values() if n > 1)

    def _duplicate_captures(self, cart_of: dict[str, str]) -> int:
        """Purchases charged twice: carts with captures (at the fake provider, keyed by order id) for more
        than one order."""
        path = self.s.data / "fake-payment-provider.sqlite"
        if not path.exists() or not cart_of:
            return 0
        with contextlib.closing(sqlite3.connect(path, timeout=10)) as conn:
            marks = ",".join("?" * len(cart_of))
            rows = conn.execute(
                f"SELECT idempotency_key FROM calls WHERE op = 'capture' AND idempotency_key IN ({marks})",
                list(cart_of),
            ).fetchall()
        per_cart = Counter(cart_of[key] for (key,) in rows)
        return sum(n - 1 for n in per_cart.values() if n > 1)


def stock_snapshot(auditor: Auditor, products: list[int]) -> dict[int, int]:
    return auditor.stock(products)


def mail_offset(s: LocalSettings) -> int:
    path: Path = s.logs / "mail.jsonl"
    return sum(1 for _ in path.open()) if path.exists() else 0
