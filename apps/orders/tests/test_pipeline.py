"""The asynchronous half of checkout with the real processes: outbox relay -> SQS (moto) -> Celery orders
worker -> payment provider -> paid / cancelled (stock released) -> notifications worker -> mail sink."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask

from apps.localdeps.stack import wait_until
from apps.orders.tests.conftest import checkout_body, new_key
from apps.payments.provider import FakeProvider
from apps.testing import ContractClient
from apps.workers.localenv import CheckoutPlatform


@pytest.fixture(scope="module")
def running(platform: CheckoutPlatform) -> Iterator[CheckoutPlatform]:
    platform.start("outbox-relay")
    platform.start("orders-worker", MAX_RETRIES="2")
    platform.start("notifications-worker")
    yield platform
    platform.stop_all()


def order_status(platform: CheckoutPlatform, order_id: str) -> tuple[str, str]:
    row = platform.sql(platform.orders_db, "SELECT status, reason FROM orders WHERE id = %s", (order_id,))[0]
    return row["status"], row["reason"]


def place(api: ContractClient, pid: int, qty: int, token: str) -> dict:
    resp = api.post(
        "/api/orders/checkout", json=checkout_body([(pid, qty)], token=token), headers={"Idempotency-Key": new_key()}
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_approved_payment_ends_paid_with_one_capture_and_one_email(api: ContractClient, running: CheckoutPlatform):
    (pid,) = running.seed_products(1, stock=4)
    order = place(api, pid, 2, "tok_approve")
    assert wait_until(lambda: order_status(running, order["id"])[0] == "paid", 30), running.log_tail("orders-worker")
    provider = FakeProvider(running.provider_ledger)
    assert (provider.requests("authorize", order["id"]), provider.requests("capture", order["id"])) == (1, 1)
    payment = running.sql(
        running.payments_db, "SELECT status, card_last4 FROM payments WHERE order_id = %s", (order["id"],)
    )
    assert payment == [{"status": "captured", "card_last4": "4242"}]
    assert running.stock(pid) == 2

    def mails() -> list[dict]:
        if not running.mail_sink.exists():
            return []
        return [m for m in map(json.loads, running.mail_sink.read_text().splitlines()) if order["id"] in m["body"]]

    assert wait_until(lambda: len(mails()) == 1, 30), running.log_tail("notifications-worker")
    assert mails()[0]["subject"].endswith("confirmed")


@pytest.mark.parametrize(("token", "reason"), [("tok_decline", "payment_declined"), ("tok_timeout", "payment_timeout")])
def test_declined_or_timed_out_payment_cancels_and_releases_stock(api, running, token, reason):
    (pid,) = running.seed_products(1, stock=3)
    order = place(api, pid, 3, token)  # reserves all 3 (the worker may release them before we look)
    assert wait_until(lambda: order_status(running, order["id"])[0] == "cancelled", 60), running.log_tail(
        "orders-worker"
    )
    assert order_status(running, order["id"]) == ("cancelled", reason)
    assert running.stock(pid) == 3
    assert api.get(f"/api/orders/orders/{order['id']}").get_json()["reason"] == reason


def test_relay_survives_a_crash_and_a_standby_takes_over(api: ContractClient, running: CheckoutPlatform):
    """Two relays: one holds the lock, the other waits. SIGKILL the active one (its MySQL session, and so its
    lock, dies with it): the standby publishes what was written meanwhile."""
    relays = [p for p in running.procs if p.args[-1] == "apps.workers.relay"]
    standby = running.start("outbox-relay")
    for relay in relays:
        os.killpg(relay.pid, signal.SIGKILL)
        relay.wait(10)
    (pid,) = running.seed_products(1, stock=2)
    order = place(api, pid, 1, "tok_approve")
    assert wait_until(lambda: order_status(running, order["id"])[0] == "paid", 30), running.log_tail("outbox-relay")
    assert standby.poll() is None


def test_same_checkout_retried_concurrently_is_one_order_and_one_payment(orders_app: Flask, running: CheckoutPlatform):
    (pid,) = running.seed_products(1, stock=5)
    body, key = checkout_body([(pid, 2)]), new_key()
    provider = FakeProvider(running.provider_ledger)
    authorized_before = provider.effects("authorize")

    def attempt(_: int) -> str:
        resp = ContractClient(orders_app, "orders").post(
            "/api/orders/checkout", json=body, headers={"Idempotency-Key": key}
        )
        assert resp.status_code == 201
        return resp.get_json()["id"]

    with ThreadPoolExecutor(6) as pool:
        ids = set(pool.map(attempt, range(6)))
    assert len(ids) == 1
    (order_id,) = ids
    assert wait_until(lambda: order_status(running, order_id)[0] == "paid", 30), running.log_tail("orders-worker")
    payments = running.sql(running.payments_db, "SELECT order_id FROM payments WHERE order_id = %s", (order_id,))
    assert len(payments) == 1
    assert provider.effects("authorize") == authorized_before + 1
    assert running.stock(pid) == 3
