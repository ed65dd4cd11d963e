"""Bad quantities, unknown products and carts, hostile ids and bodies: 4xx problems and no rows written."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from flask import Flask

from apps.localdeps import LocalDeps
from apps.testing import ContractClient


def counts(deps: LocalDeps, app: Flask) -> tuple[int, int]:
    db = app.extensions["peakshop"].settings.db_writer_url.database
    row = deps.writer.query(  # type: ignore[union-attr]
        f"SELECT (SELECT COUNT(*) FROM `{db}`.carts) c, (SELECT SUM(quantity) FROM `{db}`.cart_items) q"
    )[0]
    return int(row["c"]), int(row["q"] or 0)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ('{"quantity": 0}', 422),
        ('{"quantity": -3}', 422),
        ('{"quantity": 11}', 422),  # above MAX_QUANTITY
        ('{"quantity": 100000000000000000000}', 422),
        ('{"quantity": "2"}', 422),
        ('{"quantity": 2.5}', 422),
        ('{"quantity": null}', 422),
        ('{"quantity": true}', 422),
        ("{}", 422),
        ("[1]", 422),
        ('{"quantity": 1', 400),
        ("", 400),
    ],
)
def test_bad_quantities_write_nothing(
    api: ContractClient, cart_app: Flask, deps: LocalDeps, product: Callable[..., int], body: str, status: int
):
    pid = product()
    cart_id = api.post("/api/cart/carts").get_json()["id"]
    before = counts(deps, cart_app)
    resp = api.put(f"/api/cart/carts/{cart_id}/items/{pid}", data=body, content_type="application/json")
    assert resp.status_code == status, resp.get_json()
    assert counts(deps, cart_app) == before


def test_stock_currency_and_line_limits(
    api: ContractClient, cart_app: Flask, deps: LocalDeps, product: Callable[..., int]
):
    cart_id = api.post("/api/cart/carts").get_json()["id"]
    scarce = product(stock=2)
    assert api.put(f"/api/cart/carts/{cart_id}/items/{scarce}", json={"quantity": 3}).status_code == 409
    assert api.put(f"/api/cart/carts/{cart_id}/items/{scarce}", json={"quantity": 2}).status_code == 200
    dollars = product(currency="USD")
    clash = api.put(f"/api/cart/carts/{cart_id}/items/{dollars}", json={"quantity": 1})
    assert clash.status_code == 409 and clash.get_json()["type"].endswith("currency-mismatch")
    for _ in range(2):  # MAX_LINES=3 in these tests
        assert api.put(f"/api/cart/carts/{cart_id}/items/{product()}", json={"quantity": 1}).status_code == 200
    before = counts(deps, cart_app)
    over = api.put(f"/api/cart/carts/{cart_id}/items/{product()}", json={"quantity": 1})
    assert over.status_code == 409 and over.get_json()["type"].endswith("too-many-lines")
    assert counts(deps, cart_app) == before


@pytest.mark.parametrize(
    "cart_id",
    ["0" * 32, "nothex", "' OR 1=1 --", "%27%20OR%201%3D1", "A" * 32, "a" * 33, "ü" * 32],
)
def test_unknown_or_malformed_cart_ids_are_404(api: ContractClient, cart_id: str):
    assert api.get(f"/api/cart/carts/{cart_id}").status_code == 404
    assert api.put(f"/api/cart/carts/{cart_id}/items/1", json={"quantity": 1}).status_code == 404


def test_unknown_product_is_422_and_writes_nothing(api: ContractClient, cart_app: Flask, deps: LocalDeps):
    cart_id = api.post("/api/cart/carts").get_json()["id"]
    before = counts(deps, cart_app)
    for pid in (987654321, 2**63 - 1):
        resp = api.put(f"/api/cart/carts/{cart_id}/items/{pid}", json={"quantity": 1})
        assert resp.status_code == 422 and resp.get_json()["type"].endswith("unknown-product")
    assert api.put(f"/api/cart/carts/{cart_id}/items/{2**64}", json={"quantity": 1}).status_code == 404
    assert counts(deps, cart_app) == before


def test_oversized_body_is_413(api: ContractClient, product: Callable[..., int]):
    cart_id = api.post("/api/cart/carts").get_json()["id"]
    body = json.dumps({"quantity": 1, "pad": "x" * 70_000})
    assert (
        api.put(f"/api/cart/carts/{cart_id}/items/{product()}", data=body, content_type="application/json").status_code
        == 413
    )


def test_catalog_outage_is_503_not_500(cart_app: Flask, api: ContractClient, product: Callable[..., int]):
    cart_id = api.post("/api/cart/carts").get_json()["id"]
    client = cart_app.extensions["peakshop"].extras["catalog"]
    real_url, client.base_url = client.base_url, "http://127.0.0.1:9"  # a closed port: connection refused
    try:
        resp = api.put(f"/api/cart/carts/{cart_id}/items/{product()}", json={"quantity": 1})
    finally:
        client.base_url = real_url
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "1"
