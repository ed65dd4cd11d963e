"""Payments against real MariaDB: the ledger is idempotent on the order ID in front of the provider, only
tokens and last 4 digits are stored, and the HTTP API exposes status without tokens or references."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from apps.localdeps import LocalDeps
from apps.payments.app import create_app
from apps.payments.provider import TOKEN_APPROVE, TOKEN_DECLINE, TOKEN_TIMEOUT, FakeProvider, ProviderTimeout
from apps.testing import ContractClient, fresh_database, service_env


@pytest.fixture(scope="module")
def payments_app(deps: LocalDeps, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    ledger_file = tmp_path_factory.mktemp("provider") / "ledger.sqlite"
    env = service_env(deps, "payments", fresh_database(deps, "payments"), PAYMENTS_FAKE_LEDGER=str(ledger_file))
    app = create_app(env)
    yield app
    app.extensions["peakshop"].db.close()


def ledger(app: Flask):
    return app.extensions["peakshop"].extras["ledger"]


def test_authorize_and_capture_are_idempotent_on_the_order_id(payments_app: Flask):
    order_id = secrets.token_hex(16)
    led = ledger(payments_app)
    provider: FakeProvider = led.provider
    assert led.authorize(order_id, 4200, "EUR", TOKEN_APPROVE, "1111").approved
    assert led.authorize(order_id, 4200, "EUR", TOKEN_APPROVE, "1111").approved  # a retry: no second call
    led.capture(order_id)
    led.capture(order_id)
    assert provider.requests("authorize", order_id) == 1 and provider.requests("capture", order_id) == 1
    row = led.db.query_one("SELECT * FROM payments WHERE order_id = %s", (order_id,), fresh=True)
    assert (row["status"], row["card_last4"]) == ("captured", "1111")
    assert not any(str(v).startswith("tok_") for v in row.values())  # only the provider's reference is kept


def test_decline_is_final_and_timeout_leaves_the_outcome_open(payments_app: Flask):
    led = ledger(payments_app)
    declined = secrets.token_hex(16)
    result = led.authorize(declined, 100, "EUR", TOKEN_DECLINE, "0002")
    assert (result.approved, result.decline_code) == (False, "card_declined")
    assert not led.authorize(declined, 100, "EUR", TOKEN_APPROVE, "0002").approved  # declined stays declined
    with pytest.raises(ValueError, match="no authorized payment"):
        led.capture(declined)
    slow = secrets.token_hex(16)
    with pytest.raises(ProviderTimeout):
        led.authorize(slow, 100, "EUR", TOKEN_TIMEOUT, "0003")
    with pytest.raises(ProviderTimeout):  # the retry finds its own open claim, counts it, asks the provider again
        led.authorize(slow, 100, "EUR", TOKEN_TIMEOUT, "0003")
    assert led.get(slow, fresh=True)["attempts"] == 1
    led.void(slow)
    assert led.get(slow, fresh=True)["status"] == "voided"


def test_http_api_reports_status_without_secrets(payments_app: Flask):
    api = ContractClient(payments_app, "payments")
    order_id = secrets.token_hex(16)
    ledger(payments_app).authorize(order_id, 999, "EUR", TOKEN_APPROVE, "4242")
    body = api.get(f"/api/payments/orders/{order_id}").get_json()
    assert (body["status"], body["card_last4"], body["amount_cents"]) == ("authorized", "4242", 999)
    assert "reference" not in str(body) and "tok_" not in str(body)
    assert api.get("/api/payments/orders/not-an-id").status_code == 404
    assert api.get(f"/api/payments/orders/{secrets.token_hex(16)}").status_code == 404
    session = api.post("/api/payments/sessions", json={"cart_id": "cart-1"})
    assert session.status_code == 201 and session.get_json()["mode"] == "hosted_fields"
    assert (
        api.post("/api/payments/sessions", json={"cart_id": "x", "card_number": "4242424242424242"}).status_code == 422
    )


def test_fake_provider_survives_a_new_process_view(tmp_path: Path):
    """Idempotency lives in the provider's ledger file, not in process memory (a restarted worker sees it)."""
    first, second = FakeProvider(tmp_path / "p.sqlite"), FakeProvider(tmp_path / "p.sqlite")
    a = first.authorize("order-1", 10, "EUR", TOKEN_APPROVE)
    b = second.authorize("order-1", 10, "EUR", TOKEN_APPROVE)
    assert a == b and second.requests("authorize", "order-1") == 2 and second.effects("authorize") == 1
