"""Sign-in merges the anonymous cart into the account's cart: real MariaDB, Redis and catalog."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from apps.cart.__main__ import expire_carts
from apps.cart.tests.test_cart import new_cart
from apps.localdeps import LocalDeps
from apps.testing import ContractClient


def lines(cart: dict) -> dict[int, tuple[int, int]]:
    return {i["product_id"]: (i["quantity"], i["unit_price_cents"]) for i in cart["items"]}


def test_merge_moves_lines_adds_quantities_and_deletes_the_anonymous_cart(
    api: ContractClient,
    session_for: Callable[..., ContractClient],
    catalog_admin: ContractClient,
    deps: LocalDeps,
    product: Callable[..., int],
):
    shopper = session_for(4101)
    boots, socks = product(price_cents=9000), product(price_cents=300)
    account_cart = shopper.post("/api/cart/carts").get_json()["id"]
    shopper.put(f"/api/cart/carts/{account_cart}/items/{socks}", json={"quantity": 8})
    assert catalog_admin.patch(f"/api/catalog/products/{socks}", json={"price_cents": 350}).status_code == 200
    deps.wait_replica_caught_up()
    anonymous = new_cart(api)
    api.get(f"/api/cart/carts/{anonymous}")  # cached: the merge must invalidate it
    api.put(f"/api/cart/carts/{anonymous}/items/{boots}", json={"quantity": 1})
    api.put(f"/api/cart/carts/{anonymous}/items/{socks}", json={"quantity": 5})

    merged = shopper.post(f"/api/cart/carts/{anonymous}/merge")
    assert merged.status_code == 200
    cart = merged.get_json()
    assert cart["id"] == account_cart and cart["signed_in"] is True
    # socks: 8 + 5 capped at the limit of 10, at the account line's price; boots moved with its snapshot
    assert lines(cart) == {socks: (10, 300), boots: (1, 9000)}
    assert cart["total_cents"] == 10 * 300 + 9000
    assert api.get(f"/api/cart/carts/{anonymous}").status_code == 404

    retry = shopper.post(f"/api/cart/carts/{anonymous}/merge")
    assert retry.status_code == 200 and lines(retry.get_json()) == lines(cart)  # counted once
    assert session_for(4102).post(f"/api/cart/carts/{anonymous}/merge").status_code == 404


def test_merge_creates_the_account_cart_and_concurrent_retries_merge_once(
    api: ContractClient, session_for: Callable[..., ContractClient], product: Callable[..., int]
):
    shopper = session_for(4201)
    pid = product()
    anonymous = new_cart(api)
    api.put(f"/api/cart/carts/{anonymous}/items/{pid}", json={"quantity": 3})
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: shopper.post(f"/api/cart/carts/{anonymous}/merge"), range(4)))
    assert {r.status_code for r in results} == {200}
    assert len({r.get_json()["id"] for r in results}) == 1
    assert lines(shopper.get(f"/api/cart/carts/{results[0].get_json()['id']}").get_json()) == {pid: (3, 1250)}


def test_merge_is_all_or_nothing_and_needs_a_session(
    api: ContractClient, session_for: Callable[..., ContractClient], product: Callable[..., int]
):
    shopper = session_for(4301)
    account_cart = shopper.post("/api/cart/carts").get_json()["id"]
    shopper.put(f"/api/cart/carts/{account_cart}/items/{product(currency='USD')}", json={"quantity": 1})
    euros = new_cart(api)
    api.put(f"/api/cart/carts/{euros}/items/{product()}", json={"quantity": 2})
    conflict = shopper.post(f"/api/cart/carts/{euros}/merge")
    assert conflict.status_code == 409 and conflict.get_json()["type"].endswith("currency-mismatch")
    assert api.get(f"/api/cart/carts/{euros}").get_json()["item_count"] == 2  # nothing moved, nothing lost
    assert shopper.get(f"/api/cart/carts/{account_cart}").get_json()["item_count"] == 1

    crowded = new_cart(api)
    for _ in range(3):  # the account cart has 1 line; MAX_LINES is 3
        api.put(f"/api/cart/carts/{crowded}/items/{product(currency='USD')}", json={"quantity": 1})
    too_many = shopper.post(f"/api/cart/carts/{crowded}/merge")
    assert too_many.status_code == 409 and too_many.get_json()["type"].endswith("too-many-lines")
    assert api.get(f"/api/cart/carts/{crowded}").get_json()["item_count"] == 3

    assert api.post(f"/api/cart/carts/{euros}/merge").status_code == 401
    assert shopper.post("/api/cart/carts/not-a-cart-id/merge").status_code == 404
    assert shopper.post(f"/api/cart/carts/{account_cart}/merge").status_code == 404  # not anonymous


def test_merge_records_expire_with_the_cart_ttl(
    api: ContractClient, session_for: Callable[..., ContractClient], cart_app: Flask, deps: LocalDeps
):
    shopper = session_for(4401)
    anonymous = new_cart(api)
    assert shopper.post(f"/api/cart/carts/{anonymous}/merge").status_code == 200
    db = cart_app.extensions["peakshop"].settings.db_writer_url.database
    count = f"SELECT COUNT(*) AS n FROM `{db}`.cart_merges WHERE anonymous_id = %s"
    assert deps.writer.query(count, (anonymous,))[0]["n"] == 1
    deps.writer.query(
        f"UPDATE `{db}`.cart_merges SET merged_at = NOW(6) - INTERVAL 31 DAY WHERE anonymous_id = %s", (anonymous,)
    )
    expire_carts(cart_app.extensions["peakshop"])
    assert deps.writer.query(count, (anonymous,))[0]["n"] == 0
