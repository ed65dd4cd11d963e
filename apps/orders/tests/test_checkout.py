"""Checkout against real MariaDB (writer + replica) and Redis: stock rules under concurrency, idempotency,
validation, the state machine enforced by the database, and read-your-writes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pymysql
import pytest
from flask import Flask

from apps.orders.checkout import CheckoutRequest, place
from apps.orders.tests.conftest import checkout_body, new_key
from apps.runtime import erasure
from apps.testing import ContractClient
from apps.workers.localenv import CheckoutPlatform


def test_checkout_places_order_reserves_stock_and_writes_outbox(api: ContractClient, platform: CheckoutPlatform):
    (pid,) = platform.seed_products(1, stock=5, price_cents=1250)
    resp = api.post(
        "/api/orders/checkout", json=checkout_body([(pid, 2)], price=1250), headers={"Idempotency-Key": new_key()}
    )
    assert resp.status_code == 201, resp.get_json()
    order = resp.get_json()
    assert (order["status"], order["total_cents"], order["card_last4"]) == ("pending", 2500, "4242")
    assert platform.stock(pid) == 3
    outbox = platform.sql(platform.orders_db, "SELECT topic FROM outbox WHERE order_id = %s", (order["id"],))
    assert [r["topic"] for r in outbox] == ["order.placed"]
    # read-your-writes: the cookie set by the checkout routes this read to the writer, not the replica
    assert api.get(f"/api/orders/orders/{order['id']}").get_json()["id"] == order["id"]


def test_parallel_checkouts_for_last_units_sell_exactly_the_stock(orders_app: Flask, platform: CheckoutPlatform):
    units, buyers = 7, 30
    (pid,) = platform.seed_products(1, stock=units)

    def buy(_: int) -> int:
        client = ContractClient(orders_app, "orders")
        return client.post(
            "/api/orders/checkout", json=checkout_body([(pid, 1)]), headers={"Idempotency-Key": new_key()}
        ).status_code

    with ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(buy, range(buyers)))
    assert statuses.count(201) == units
    assert statuses.count(409) == buyers - units
    assert platform.stock(pid) == 0
    sold = platform.sql(
        platform.orders_db, "SELECT COALESCE(SUM(quantity), 0) AS n FROM order_lines WHERE product_id = %s", (pid,)
    )
    assert int(sold[0]["n"]) == units


def test_same_key_concurrently_yields_one_order(orders_app: Flask, platform: CheckoutPlatform):
    (pid,) = platform.seed_products(1, stock=10)
    body, key = checkout_body([(pid, 3)]), new_key()

    def attempt(_: int) -> tuple[int, str, str | None]:
        resp = ContractClient(orders_app, "orders").post(
            "/api/orders/checkout", json=body, headers={"Idempotency-Key": key}
        )
        return resp.status_code, resp.get_json()["id"], resp.headers.get("Idempotent-Replayed")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(8)))
    assert {status for status, _, _ in results} == {201}
    assert len({order_id for _, order_id, _ in results}) == 1
    assert sum(1 for *_, replayed in results if replayed == "true") == 7
    assert platform.stock(pid) == 7
    count = platform.sql(platform.orders_db, "SELECT COUNT(*) AS n FROM orders WHERE cart_id = %s", (body["cart_id"],))
    assert count[0]["n"] == 1


def test_same_key_with_different_body_is_rejected(api: ContractClient, platform: CheckoutPlatform):
    (pid,) = platform.seed_products(1, stock=10)
    key = new_key()
    assert (
        api.post("/api/orders/checkout", json=checkout_body([(pid, 1)]), headers={"Idempotency-Key": key}).status_code
        == 201
    )
    clash = api.post("/api/orders/checkout", json=checkout_body([(pid, 2)]), headers={"Idempotency-Key": key})
    assert clash.status_code == 422
    assert clash.get_json()["type"].endswith("/idempotency-key-reused")
    assert platform.stock(pid) == 9


@pytest.mark.parametrize(
    ("headers", "mutate", "status"),
    [
        ({}, lambda b: b, 400),  # no Idempotency-Key
        ({"Idempotency-Key": "short"}, lambda b: b, 400),
        ({"Idempotency-Key": "key-valid-123"}, lambda b: {**b, "lines": []}, 422),
        ({"Idempotency-Key": "key-valid-124"}, lambda b: {**b, "payment": {"card_number": "4242424242424242"}}, 422),
        ({"Idempotency-Key": "key-valid-125"}, lambda b: {**b, "lines": [{**b["lines"][0], "quantity": -1}]}, 422),
        ({"Idempotency-Key": "key-valid-126"}, lambda b: {**b, "lines": b["lines"] * 2}, 422),  # duplicate product
        ({"Idempotency-Key": "key-valid-127", "Authorization": "Bearer forged.token"}, lambda b: b, 401),
    ],
)
def test_bad_checkout_input_is_a_problem_and_writes_nothing(api, platform, headers, mutate, status):
    (pid,) = platform.seed_products(1, stock=3)
    resp = api.post("/api/orders/checkout", json=mutate(checkout_body([(pid, 1)])), headers=headers)
    assert resp.status_code == status, resp.get_json()
    assert platform.stock(pid) == 3


def test_unknown_product_and_stale_price_are_rejected_without_reserving(
    api: ContractClient, platform: CheckoutPlatform
):
    pid, other = platform.seed_products(2, stock=3, price_cents=500)
    stale = api.post(
        "/api/orders/checkout",
        json=checkout_body([(other, 1), (pid, 1)], price=400),
        headers={"Idempotency-Key": new_key()},
    )
    assert stale.status_code == 409 and stale.get_json()["type"].endswith("/price-changed")
    unknown = api.post(
        "/api/orders/checkout",
        json=checkout_body([(pid, 1), (2**40, 1)], price=500),
        headers={"Idempotency-Key": new_key()},
    )
    assert unknown.status_code == 422 and unknown.get_json()["type"].endswith("/unknown-product")
    assert (platform.stock(pid), platform.stock(other)) == (3, 3)  # the first line's reservation rolled back


def test_state_machine_is_enforced_by_the_database(api: ContractClient, platform: CheckoutPlatform):
    (pid,) = platform.seed_products(1, stock=3)
    order = api.post(
        "/api/orders/checkout", json=checkout_body([(pid, 1)]), headers={"Idempotency-Key": new_key()}
    ).get_json()
    with pytest.raises(pymysql.err.OperationalError, match="illegal order status transition"):
        platform.sql(platform.orders_db, "UPDATE orders SET status = 'fulfilled' WHERE id = %s", (order["id"],))
    admin = {"Authorization": f"Bearer {platform.admin_token}"}
    early = api.post(f"/api/orders/orders/{order['id']}/fulfil", headers=admin)
    assert early.status_code == 409
    platform.sql(platform.orders_db, "UPDATE orders SET status = 'paid' WHERE id = %s", (order["id"],))
    assert api.post(f"/api/orders/orders/{order['id']}/fulfil", headers=admin).get_json()["status"] == "fulfilled"
    with pytest.raises(pymysql.err.OperationalError, match="illegal order status transition"):
        platform.sql(platform.orders_db, "UPDATE orders SET status = 'cancelled' WHERE id = %s", (order["id"],))


def test_user_sees_own_orders_only(api: ContractClient, platform: CheckoutPlatform):
    (pid,) = platform.seed_products(1, stock=5)
    alice = {"Authorization": f"Bearer {platform.session_token('alice')}"}
    bob = {"Authorization": f"Bearer {platform.session_token('bob')}"}
    placed = api.post(
        "/api/orders/checkout", json=checkout_body([(pid, 1)]), headers={"Idempotency-Key": new_key(), **alice}
    ).get_json()
    listed = api.get("/api/orders/orders", headers=alice).get_json()["items"]
    assert placed["id"] in [o["id"] for o in listed]
    assert api.get(f"/api/orders/orders/{placed['id']}", headers=bob).status_code == 404
    assert api.get("/api/orders/orders").status_code == 401


def test_an_erased_accounts_session_cannot_order(api: ContractClient, platform: CheckoutPlatform, orders_app: Flask):
    (pid,) = platform.seed_products(1, stock=5)
    db = orders_app.extensions["peakshop"].db
    db.write(lambda cur: erasure.record(cur, "4343"))  # what the privacy worker records with the erasure
    token = platform.session_token("4343")
    resp = api.post(
        "/api/orders/checkout",
        json=checkout_body([(pid, 1)]),
        headers={"Idempotency-Key": new_key(), "Authorization": f"Bearer {token}"},
    )
    assert resp.status_code == 401 and resp.get_json()["type"].endswith("/account-erased")
    # a checkout accepted (202) before the erasure and completed by the worker after it keeps no personal data
    req = CheckoutRequest("user:4343", new_key(), "4343", checkout_body([(pid, 1)]))
    order, created = db.write(lambda cur: place(cur, platform.catalog_db, req, cancel_unfillable=True))
    assert created and (order["status"], order["reason"]) == ("cancelled", "account_erased")
    stored = platform.sql(
        platform.orders_db, "SELECT email, payment_token, stock_held FROM orders WHERE id = %s", (order["id"],)
    )
    assert stored == [{"email": erasure.erased_email("4343"), "payment_token": "erased", "stock_held": 0}]
    assert platform.stock(pid) == 5
