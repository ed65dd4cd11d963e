"""Orders fixtures: one checkout platform (catalog/orders/payments databases, queues with DLQs) per test
module on the session's real dependencies, the orders app, and helpers to build checkout requests."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from apps.localdeps import LocalDeps
from apps.orders.app import create_app
from apps.testing import ContractClient
from apps.workers.localenv import CheckoutPlatform


@pytest.fixture(scope="module")
def platform(deps: LocalDeps) -> Iterator[CheckoutPlatform]:
    p = CheckoutPlatform(deps, visibility_timeout_s=4)
    yield p
    p.close()


@pytest.fixture(scope="module")
def orders_app(platform: CheckoutPlatform) -> Iterator[Flask]:
    app = create_app(platform.orders_env())
    yield app
    app.extensions["peakshop"].db.close()


@pytest.fixture
def api(orders_app: Flask) -> ContractClient:
    return ContractClient(orders_app, "orders")


def checkout_body(lines: list[tuple[int, int]], token: str = "tok_approve", price: int = 1000) -> dict[str, Any]:
    return {
        "cart_id": f"cart-{secrets.token_hex(4)}",
        "currency": "EUR",
        "lines": [{"product_id": pid, "quantity": qty, "unit_price_cents": price} for pid, qty in lines],
        "payment": {"token": token, "card_last4": "4242"},
        "email": "shopper@example.com",
    }


def new_key() -> str:
    return f"key-{secrets.token_hex(8)}"
