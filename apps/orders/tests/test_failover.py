"""Writer down during checkout: every request is answered 202 (queued on SQS with its Idempotency-Key),
none 5xx; once the writer is back the orders worker places them with the same stock rules: nothing lost,
nothing duplicated, nothing oversold (the one that no longer fits ends cancelled with a reason)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from apps.localdeps import LocalDeps
from apps.localdeps.stack import wait_until
from apps.orders.tests.conftest import checkout_body, new_key
from apps.testing import ContractClient, metric
from apps.workers.localenv import CheckoutPlatform


@pytest.fixture(scope="module")
def running(platform: CheckoutPlatform) -> Iterator[CheckoutPlatform]:
    platform.start("outbox-relay")
    platform.start("orders-worker")
    yield platform
    platform.stop_all()


def test_checkout_while_writer_is_down_is_accepted_and_completed_later(
    api: ContractClient, running: CheckoutPlatform, healthy_deps: LocalDeps
):
    (pid,) = running.seed_products(1, stock=2)
    bodies = {new_key(): checkout_body([(pid, 1)]) for _ in range(3)}
    healthy_deps.stop_dependency("writer")
    try:
        answers = {}
        for key, body in bodies.items():
            resp = api.post("/api/orders/checkout", json=body, headers={"Idempotency-Key": key})
            assert resp.status_code == 202, resp.get_json()
            answers[key] = resp.get_json()
        first = next(iter(bodies))
        retry = api.post("/api/orders/checkout", json=bodies[first], headers={"Idempotency-Key": first})
        assert retry.status_code == 202  # a client retry while still down: queued again, placed once
        assert api.get(answers[first]["status_url"]).status_code == 202
        assert api.get("/api/orders/checkouts/never-sent-key").status_code == 404
        assert metric(api.app, "peakshop_checkouts_deferred_total") == 4
    finally:
        healthy_deps.start_dependency("writer")

    def settled() -> bool:
        rows = running.sql(
            running.orders_db,
            "SELECT status FROM orders WHERE cart_id IN %s",
            ([b["cart_id"] for b in bodies.values()],),
        )
        return len(rows) == 3 and all(r["status"] in ("paid", "cancelled") for r in rows)

    assert wait_until(settled, 60), running.log_tail("orders-worker")
    rows = running.sql(
        running.orders_db,
        "SELECT status, reason FROM orders WHERE cart_id IN %s",
        ([b["cart_id"] for b in bodies.values()],),
    )
    assert sorted((r["status"], r["reason"]) for r in rows) == [
        ("cancelled", "out_of_stock"),
        ("paid", ""),
        ("paid", ""),
    ]
    assert running.stock(pid) == 0
    for key, answer in answers.items():
        done = api.get(answer["status_url"])
        assert done.status_code == 200 and done.get_json()["status"] in ("paid", "cancelled"), key
