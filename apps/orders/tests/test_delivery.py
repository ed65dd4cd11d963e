"""Delivery guarantees with real processes: a worker SIGKILLed mid-task has its message redelivered and the
order is settled once in effect (one authorization and one capture at the provider, one paid event)."""

from __future__ import annotations

import os
import signal

from apps.localdeps.stack import wait_until
from apps.orders.tests.conftest import checkout_body, new_key
from apps.payments.provider import FakeProvider
from apps.testing import ContractClient
from apps.workers import queues as sqsq
from apps.workers.localenv import CheckoutPlatform


def test_worker_killed_mid_task_is_redelivered_and_settles_once(api: ContractClient, platform: CheckoutPlatform):
    provider = FakeProvider(platform.provider_ledger)
    authorized_before, captured_before = provider.effects("authorize"), provider.effects("capture")
    slow = platform.start("orders-worker", PAYMENTS_FAKE_LATENCY_S="2.5")  # the provider acts, answers late
    platform.start("outbox-relay")
    (pid,) = platform.seed_products(1, stock=1)
    resp = api.post("/api/orders/checkout", json=checkout_body([(pid, 1)]), headers={"Idempotency-Key": new_key()})
    order_id = resp.get_json()["id"]
    assert wait_until(lambda: provider.requests("authorize", order_id) == 1, 30), platform.log_tail("orders-worker")
    os.killpg(slow.pid, signal.SIGKILL)  # mid-task: the provider authorized, we never recorded it
    slow.wait(10)
    status = platform.sql(platform.payments_db, "SELECT status FROM payments WHERE order_id = %s", (order_id,))
    assert status == [{"status": "authorizing"}]

    platform.start("orders-worker")  # a replacement pod; SQS redelivers after the visibility timeout

    def paid() -> bool:
        rows = platform.sql(platform.orders_db, "SELECT status FROM orders WHERE id = %s", (order_id,))
        return rows[0]["status"] == "paid"

    assert wait_until(paid, 40), platform.log_tail("orders-worker")
    assert provider.requests("authorize", order_id) == 2  # the redelivered task asked again, same key...
    assert provider.effects("authorize") == authorized_before + 1  # ...and the provider holds one authorization
    assert provider.effects("capture") == captured_before + 1
    events = platform.sql(platform.orders_db, "SELECT topic FROM outbox WHERE order_id = %s ORDER BY id", (order_id,))
    assert [e["topic"] for e in events] == ["order.placed", "order.paid"]
    assert platform.stock(pid) == 0


def test_sigterm_is_a_warm_shutdown_the_running_task_finishes(api: ContractClient, platform: CheckoutPlatform):
    platform.stop_all()  # only the worker under test may take the task
    provider = FakeProvider(platform.provider_ledger)
    worker = platform.start("orders-worker", PAYMENTS_FAKE_LATENCY_S="2")
    platform.start("outbox-relay")
    (pid,) = platform.seed_products(1, stock=1)
    order_id = api.post(
        "/api/orders/checkout", json=checkout_body([(pid, 1)]), headers={"Idempotency-Key": new_key()}
    ).get_json()["id"]
    assert wait_until(lambda: provider.requests("authorize", order_id) == 1, 30), platform.log_tail("orders-worker")
    worker.terminate()  # SIGTERM mid-task, as Kubernetes does on a rolling update
    assert worker.wait(30) == 0
    rows = platform.sql(platform.orders_db, "SELECT status FROM orders WHERE id = %s", (order_id,))
    assert rows == [{"status": "paid"}]  # finished before exiting, not abandoned to redelivery
    depth = sqsq.depth(platform.sqs(), platform.queues["orders"])
    assert depth.visible + depth.in_flight == 0  # and its batched acknowledgement was sent before the exit
