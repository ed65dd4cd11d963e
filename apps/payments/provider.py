"""The payment-provider adapter. Card numbers never reach the platform (PCI DSS scope reduction): the browser
enters them in the provider's hosted fields (or is redirected to the provider's page) and we only ever see the
provider's single-use token and the last 4 digits. Every call carries an idempotency key (the order ID), so a
retried authorize/capture/void has one effect at the provider.

`FakeProvider` is the local and test provider: outcomes are deterministic by test token and its ledger is a
SQLite file, so several worker processes (and a worker restarted after SIGKILL) share the provider's memory
of idempotency keys exactly as a real provider's API would.

A real provider plugs in as another `PaymentProvider` implementation, selected by PAYMENTS_PROVIDER."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

Outcome = Literal["approved", "declined"]

# Test tokens of the fake provider (what its hosted fields would return for the documented test cards).
TOKEN_APPROVE = "tok_approve"
TOKEN_DECLINE = "tok_decline"
TOKEN_TIMEOUT = "tok_timeout"


class ProviderTimeout(RuntimeError):
    """The provider did not answer in time: the outcome is unknown, so the caller retries with the same key."""


class ProviderError(RuntimeError):
    """The provider rejected the request itself (not the card), e.g. capture of an unknown authorization."""


@dataclass(frozen=True)
class Authorization:
    outcome: Outcome
    reference: str  # the provider's ID for the authorization ("" when declined)
    decline_code: str = ""


@dataclass(frozen=True)
class ClientSession:
    """What the browser needs to collect card data with the provider, never with us."""

    mode: Literal["hosted_fields", "redirect"]
    publishable_key: str
    redirect_url: str


class PaymentProvider(Protocol):
    """Slot for a real provider (Stripe, Adyen, Braintree, ...): implement these calls with its API, sending
    `idempotency_key` as the provider's idempotency header, the secret API key from Secrets Manager
    (`payments-provider`), and a client timeout below the orders task's soft time limit (a timeout raises
    ProviderTimeout). `client_session` returns the hosted-fields configuration or the redirect URL; the
    browser sends card data to the provider only and posts the token and the last 4 digits to checkout."""

    def client_session(self, order_id: str, return_url: str) -> ClientSession: ...

    def authorize(self, idempotency_key: str, amount_cents: int, currency: str, token: str) -> Authorization: ...

    def capture(self, idempotency_key: str, reference: str, amount_cents: int) -> None: ...

    def void(self, idempotency_key: str, reference: str) -> None: ...


class FakeProvider:
    """Deterministic provider: tok_approve approves, tok_decline declines, tok_timeout never answers in time;
    any other token declines with `invalid_token`."""

    def __init__(self, ledger_path: Path, latency_s: float = 0.0) -> None:
        self.ledger_path = ledger_path
        self.latency_s = latency_s
        self._local = threading.local()
        with self._db() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS calls (op TEXT, idempotency_key TEXT, result TEXT, "
                "amount_cents INTEGER, created REAL, requests INTEGER NOT NULL DEFAULT 0, "
                "PRIMARY KEY (op, idempotency_key))"
            )

    def _db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.ledger_path, timeout=30, isolation_level=None)
            # survives a killed process (the crash tests); only a power loss could drop the last calls
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def _once(self, op: str, key: str, amount_cents: int, result: dict[str, str]) -> dict[str, str]:
        """Record the first result for (op, key) and return whatever was recorded first, in one transaction."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(
                "INSERT OR IGNORE INTO calls VALUES (?, ?, ?, ?, ?, 0)",
                (op, key, json.dumps(result), amount_cents, time.time()),
            )
            db.execute("UPDATE calls SET requests = requests + 1 WHERE op = ? AND idempotency_key = ?", (op, key))
            row = db.execute("SELECT result FROM calls WHERE op = ? AND idempotency_key = ?", (op, key)).fetchone()
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return dict(json.loads(row[0]))

    def client_session(self, order_id: str, return_url: str) -> ClientSession:
        return ClientSession("hosted_fields", "pk_test_fake", f"{return_url}?order={order_id}")

    def authorize(self, idempotency_key: str, amount_cents: int, currency: str, token: str) -> Authorization:
        if token == TOKEN_TIMEOUT:
            raise ProviderTimeout("fake provider: no answer within the timeout")
        if token == TOKEN_APPROVE:
            fresh = {"outcome": "approved", "reference": f"auth_{uuid.uuid4().hex[:16]}", "code": ""}
        else:
            code = "card_declined" if token == TOKEN_DECLINE else "invalid_token"
            fresh = {"outcome": "declined", "reference": "", "code": code}
        got = self._once("authorize", idempotency_key, amount_cents, fresh)
        if self.latency_s:  # the provider has acted; its answer is slow to arrive (a crash here is the hard case)
            time.sleep(self.latency_s)
        return Authorization(got["outcome"], got["reference"], got["code"])  # type: ignore[arg-type]

    def capture(self, idempotency_key: str, reference: str, amount_cents: int) -> None:
        row = (
            self._db()
            .execute("SELECT result FROM calls WHERE op = 'authorize' AND idempotency_key = ?", (idempotency_key,))
            .fetchone()
        )
        if row is None or json.loads(row[0])["reference"] != reference:
            raise ProviderError(f"no authorization {reference!r} for {idempotency_key}")
        self._once("capture", idempotency_key, amount_cents, {"reference": reference})

    def void(self, idempotency_key: str, reference: str) -> None:
        self._once("void", idempotency_key, 0, {"reference": reference})

    def requests(self, op: str, idempotency_key: str) -> int:
        """How many times the provider was asked (a retry with the same key asks again, to no new effect)."""
        row = (
            self._db()
            .execute(
                "SELECT COALESCE(SUM(requests), 0) FROM calls WHERE op = ? AND idempotency_key = ?",
                (op, idempotency_key),
            )
            .fetchone()
        )
        return int(row[0])

    def effects(self, op: str) -> int:
        """Distinct effects of `op` the provider holds (one per idempotency key)."""
        return int(self._db().execute("SELECT COUNT(*) FROM calls WHERE op = ?", (op,)).fetchone()[0])


def build_provider(kind: str, fake_ledger: str, fake_latency_s: float = 0.0) -> PaymentProvider:
    if kind == "fake":
        return FakeProvider(Path(fake_ledger), fake_latency_s)
    raise ValueError(f"unknown payment provider {kind!r}")
