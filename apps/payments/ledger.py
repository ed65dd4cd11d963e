"""The payment ledger: authorize, capture and void are idempotent on the order ID. The ledger row is claimed
before the provider is called and the provider deduplicates on the same key, so a worker that crashes between
the provider's answer and our update repeats the call and gets the first answer back, never a second charge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.payments.provider import PaymentProvider
from apps.runtime.db import Database

PUBLIC_COLUMNS = "order_id, amount_cents, currency, card_last4, status, decline_code, attempts, created_at, updated_at"


@dataclass(frozen=True)
class AuthorizeResult:
    approved: bool
    decline_code: str = ""


class Ledger:
    def __init__(self, db: Database, provider: PaymentProvider) -> None:
        self.db = db
        self.provider = provider

    def get(self, order_id: str, fresh: bool = False) -> dict[str, Any] | None:
        return self.db.query_one(f"SELECT {PUBLIC_COLUMNS} FROM payments WHERE order_id = %s", (order_id,), fresh=fresh)

    def authorize(self, order_id: str, amount_cents: int, currency: str, token: str, last4: str) -> AuthorizeResult:
        """Approve or decline; raises ProviderTimeout when the outcome is unknown (retry with the same key)."""

        claimed = self.db.execute(
            "INSERT INTO payments (order_id, amount_cents, currency, card_last4) VALUES (%s, %s, %s, %s) "
            "ON DUPLICATE KEY UPDATE attempts = attempts + IF(status = 'authorizing', 1, 0)",
            (order_id, amount_cents, currency, last4),
        )
        if claimed != 1:  # 1 = a new row ('authorizing'); 0 or 2 = an earlier attempt's row: read where it got
            row = self.db.query_one(
                "SELECT status, decline_code FROM payments WHERE order_id = %s", (order_id,), fresh=True
            )
            assert row is not None, "payments row vanished after its claim"
            if row["status"] in ("authorized", "captured"):
                return AuthorizeResult(True)
            if row["status"] in ("declined", "voided"):
                return AuthorizeResult(False, row["decline_code"] or "voided")
        auth = self.provider.authorize(order_id, amount_cents, currency, token)
        status = "authorized" if auth.outcome == "approved" else "declined"
        self.db.execute(
            "UPDATE payments SET status = %s, provider_reference = %s, decline_code = %s "
            "WHERE order_id = %s AND status = 'authorizing'",
            (status, auth.reference, auth.decline_code, order_id),
        )
        return AuthorizeResult(auth.outcome == "approved", auth.decline_code)

    def capture(self, order_id: str) -> None:
        row = self.db.query_one(
            "SELECT status, provider_reference, amount_cents FROM payments WHERE order_id = %s", (order_id,), fresh=True
        )
        if row is None or row["status"] not in ("authorized", "captured"):
            raise ValueError(f"order {order_id} has no authorized payment (status {row and row['status']})")
        if row["status"] == "captured":
            return
        self.provider.capture(order_id, row["provider_reference"], row["amount_cents"])
        self.db.execute(
            "UPDATE payments SET status = 'captured' WHERE order_id = %s AND status = 'authorized'", (order_id,)
        )

    def void(self, order_id: str) -> None:
        """Release whatever the provider may hold for this order (after a timeout the outcome is unknown)."""
        row = self.db.query_one(
            "SELECT status, provider_reference FROM payments WHERE order_id = %s", (order_id,), fresh=True
        )
        if row is None or row["status"] in ("voided", "declined"):
            return
        if row["status"] == "captured":
            raise ValueError(f"order {order_id} is captured; refunds are not voids")
        self.provider.void(order_id, row["provider_reference"])
        self.db.execute(
            "UPDATE payments SET status = 'voided' WHERE order_id = %s AND status IN ('authorizing', 'authorized')",
            (order_id,),
        )
