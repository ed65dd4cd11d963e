"""Worker fixtures: a checkout platform whose queues have a 2 s visibility timeout, so a poison message
reaches its DLQ after MAX_RECEIVES receives within seconds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from apps.localdeps import LocalDeps
from apps.orders.app import create_app
from apps.testing import ContractClient
from apps.workers.localenv import CheckoutPlatform


@pytest.fixture(scope="module")
def platform(deps: LocalDeps) -> Iterator[CheckoutPlatform]:
    p = CheckoutPlatform(deps, visibility_timeout_s=2)
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
