from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from apps.cart.app import create_app
from apps.catalog.app import create_app as create_catalog_app
from apps.localdeps import LocalDeps
from apps.runtime import tokens
from apps.testing import ContractClient, ThreadedServer, catalog_env, fresh_database, service_env


@pytest.fixture(scope="module")
def admin_token() -> str:
    return secrets.token_urlsafe(32)


@pytest.fixture(scope="module")
def catalog_server(deps: LocalDeps, admin_token: str) -> Iterator[ThreadedServer]:
    app = create_catalog_app(catalog_env(deps, admin_token))
    with ThreadedServer(app) as server:
        yield server


@pytest.fixture(scope="module")
def catalog_admin(catalog_server: ThreadedServer, admin_token: str) -> ContractClient:
    return ContractClient(catalog_server.server.app, "catalog", {"Authorization": f"Bearer {admin_token}"})


@pytest.fixture(scope="module")
def signing_seed() -> bytes:
    return secrets.token_bytes(32)


@pytest.fixture(scope="module")
def cart_app(deps: LocalDeps, catalog_server: ThreadedServer, signing_seed: bytes) -> Iterator[Flask]:
    public = base64.b64encode(tokens.public_bytes_of(signing_seed)).decode()
    env = service_env(
        deps,
        "cart",
        fresh_database(deps, "cart"),
        CATALOG_URL=catalog_server.url,
        SESSION_PUBLIC_KEY=public,
        MAX_QUANTITY="10",
        MAX_LINES="3",
    )
    app = create_app(env)
    yield app
    app.extensions["peakshop"].db.close()


@pytest.fixture
def api(cart_app: Flask) -> ContractClient:
    return ContractClient(cart_app, "cart")


@pytest.fixture
def session_for(cart_app: Flask, signing_seed: bytes) -> Callable[[int], ContractClient]:
    def client(account_id: int, ttl_s: int = 600) -> ContractClient:
        token, _ = tokens.issue(tokens.private_key(signing_seed), str(account_id), ttl_s)
        return ContractClient(cart_app, "cart", {"Authorization": f"Bearer {token}"})

    return client


@pytest.fixture
def product(catalog_admin: ContractClient, deps: LocalDeps) -> Callable[..., int]:
    def make(price_cents: int = 1250, stock: int = 20, currency: str = "EUR", name: str = "Cart item") -> int:
        body = {
            "sku": f"C-{secrets.token_hex(4)}",
            "name": name,
            "price_cents": price_cents,
            "currency": currency,
            "stock": stock,
        }
        resp = catalog_admin.post("/api/catalog/products", json=body)
        assert resp.status_code == 201
        deps.wait_replica_caught_up()
        return int(resp.get_json()["id"])

    return make
