"""Cart behaviour against real MariaDB, Redis and a real catalog served over HTTP."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from apps.cart.__main__ import expire_carts
from apps.localdeps import LocalDeps
from apps.testing import ContractClient, metric


def new_cart(client: ContractClient) -> str:
    resp = client.post("/api/cart/carts")
    assert resp.status_code in (200, 201)
    return str(resp.get_json()["id"])


def test_add_update_remove_and_totals(api: ContractClient, product: Callable[..., int]):
    boots, socks = product(price_cents=12900), product(price_cents=450)
    cart_id = new_cart(api)
    assert api.get(f"/api/cart/carts/{cart_id}").get_json()["items"] == []
    api.put(f"/api/cart/carts/{cart_id}/items/{boots}", json={"quantity": 1})
    cart = api.put(f"/api/cart/carts/{cart_id}/items/{socks}", json={"quantity": 3}).get_json()
    assert (cart["total_cents"], cart["item_count"], cart["currency"]) == (12900 + 3 * 450, 4, "EUR")
    again = api.put(f"/api/cart/carts/{cart_id}/items/{socks}", json={"quantity": 3}).get_json()
    assert again["total_cents"] == cart["total_cents"]  # absolute quantity: a retried PUT changes nothing
    cart = api.delete(f"/api/cart/carts/{cart_id}/items/{boots}").get_json()
    assert [i["product_id"] for i in cart["items"]] == [socks] and cart["total_cents"] == 1350
    assert api.delete(f"/api/cart/carts/{cart_id}/items/{boots}").status_code == 200  # idempotent
    shown = api.get(f"/api/cart/carts/{cart_id}").get_json()
    assert {**shown, "expires_at": None} == {**cart, "expires_at": None}  # the second DELETE only touched expiry


def test_price_snapshot_survives_catalog_price_change(
    api: ContractClient, catalog_admin: ContractClient, product: Callable[..., int], deps: LocalDeps
):
    pid = product(price_cents=1000)
    cart_id = new_cart(api)
    api.put(f"/api/cart/carts/{cart_id}/items/{pid}", json={"quantity": 2})
    assert catalog_admin.patch(f"/api/catalog/products/{pid}", json={"price_cents": 1500}).status_code == 200
    deps.wait_replica_caught_up()
    cart = api.put(f"/api/cart/carts/{cart_id}/items/{pid}", json={"quantity": 3}).get_json()
    assert cart["items"][0]["unit_price_cents"] == 1000 and cart["total_cents"] == 3000


def test_cart_reads_are_cached_and_writes_invalidate(api: ContractClient, cart_app: Flask, product: Callable[..., int]):
    pid = product()
    cart_id = new_cart(api)
    hits = metric(cart_app, "peakshop_cache_requests_total", result="hit")
    api.get(f"/api/cart/carts/{cart_id}")
    api.get(f"/api/cart/carts/{cart_id}")
    assert metric(cart_app, "peakshop_cache_requests_total", result="hit") >= hits + 1
    api.put(f"/api/cart/carts/{cart_id}/items/{pid}", json={"quantity": 2})
    assert api.get(f"/api/cart/carts/{cart_id}").get_json()["item_count"] == 2


def test_signed_in_cart_is_one_per_account_and_private(
    session_for: Callable[..., ContractClient], api: ContractClient, product: Callable[..., int]
):
    alice, bob = session_for(101), session_for(202)
    first = alice.post("/api/cart/carts")
    second = alice.post("/api/cart/carts")
    assert (first.status_code, second.status_code) == (201, 200)
    cart_id = first.get_json()["id"]
    assert second.get_json()["id"] == cart_id and first.get_json()["signed_in"] is True
    alice.put(f"/api/cart/carts/{cart_id}/items/{product()}", json={"quantity": 1})
    assert bob.get(f"/api/cart/carts/{cart_id}").status_code == 404
    assert api.get(f"/api/cart/carts/{cart_id}").status_code == 404
    assert bob.put(f"/api/cart/carts/{cart_id}/items/{product()}", json={"quantity": 1}).status_code == 404
    assert alice.get(f"/api/cart/carts/{cart_id}").get_json()["item_count"] == 1


def test_expired_and_forged_tokens_are_401(session_for: Callable[..., ContractClient], api: ContractClient):
    expired = session_for(303, ttl_s=-1)
    assert expired.post("/api/cart/carts").status_code == 401
    forged = api.post("/api/cart/carts", headers={"Authorization": "Bearer eyJzdWIiOiIxIn0.AAAA"})
    assert forged.status_code == 401
    assert api.post("/api/cart/carts", headers={"Authorization": "Basic abc"}).status_code == 401


def test_abandoned_carts_expire(api: ContractClient, cart_app: Flask, deps: LocalDeps, product: Callable[..., int]):
    stale, live = new_cart(api), new_cart(api)
    api.put(f"/api/cart/carts/{stale}/items/{product()}", json={"quantity": 1})
    api.get(f"/api/cart/carts/{stale}")  # cached
    db = cart_app.extensions["peakshop"].settings.db_writer_url.database
    deps.writer.query(f"UPDATE `{db}`.carts SET updated_at = NOW(6) - INTERVAL 31 DAY WHERE id = %s", (stale,))
    assert expire_carts(cart_app.extensions["peakshop"]) >= 1
    assert api.get(f"/api/cart/carts/{stale}").status_code == 404
    assert api.get(f"/api/cart/carts/{live}").status_code == 200
    left = deps.writer.query(f"SELECT COUNT(*) AS n FROM `{db}`.cart_items WHERE cart_id = %s", (stale,))
    assert left[0]["n"] == 0


def test_cart_works_through_a_redis_outage(
    api: ContractClient, cart_app: Flask, healthy_deps: LocalDeps, product: Callable[..., int]
):
    pid = product()
    cart_id = new_cart(api)
    errors = metric(cart_app, "peakshop_cache_requests_total", result="error")
    healthy_deps.stop_dependency("redis")
    assert api.put(f"/api/cart/carts/{cart_id}/items/{pid}", json={"quantity": 2}).status_code == 200
    assert api.get(f"/api/cart/carts/{cart_id}").get_json()["item_count"] == 2
    assert metric(cart_app, "peakshop_cache_requests_total", result="error") > errors
    healthy_deps.start_dependency("redis")


def test_anonymous_create_with_idempotency_key_converges(api: ContractClient):
    key = "retry-" + "k" * 20
    first = api.post("/api/cart/carts", headers={"Idempotency-Key": key})
    retry = api.post("/api/cart/carts", headers={"Idempotency-Key": key})
    other = api.post("/api/cart/carts", headers={"Idempotency-Key": "another-key-0123456789"})
    assert (first.status_code, retry.status_code, other.status_code) == (201, 200, 201)
    assert first.get_json()["id"] == retry.get_json()["id"] != other.get_json()["id"]
    assert api.post("/api/cart/carts", headers={"Idempotency-Key": "short"}).status_code == 400
