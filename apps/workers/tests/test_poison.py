"""A poison message (here: every attempt fails because the worker was deployed with a wrong payments
database) is received MAX_RECEIVES times, lands in the DLQ, shows in the worker's metrics, and after the fix
the redrive command moves it back and it is processed."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from apps.localdeps.process import free_port
from apps.localdeps.stack import wait_until
from apps.orders.tests.conftest import checkout_body, new_key
from apps.testing import ContractClient
from apps.workers import queues as sqsq
from apps.workers.localenv import REPO, CheckoutPlatform


def scrape(port: int) -> dict[tuple[str, frozenset], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value for f in text_string_to_metric_families(text) for s in f.samples
    }


def test_poison_message_goes_to_dlq_is_visible_in_metrics_and_redrive_works(
    api: ContractClient, platform: CheckoutPlatform
):
    port = free_port()
    e = platform.deps.endpoints
    broken = platform.start(
        "orders-worker",
        PAYMENTS_DB_URL=e.mysql_url("peakshop_missing_db"),
        METRICS_PORT=str(port),
        TASK_TIME_LIMIT_S="1",
    )
    platform.start("outbox-relay")
    (pid,) = platform.seed_products(1, stock=2)
    order_id = api.post(
        "/api/orders/checkout", json=checkout_body([(pid, 1)]), headers={"Idempotency-Key": new_key()}
    ).get_json()["id"]
    sqs = platform.sqs()
    assert wait_until(lambda: sqsq.depth(sqs, platform.dlqs["orders"]).visible == 1, 60), platform.log_tail(
        "orders-worker"
    )

    metrics = scrape(port)
    dlq = frozenset({"queue": "orders", "kind": "dlq", "state": "visible"}.items())
    assert metrics[("peakshop_queue_messages", dlq)] == 1
    failures = frozenset({"workload": "orders-worker", "task": "orders.settle", "outcome": "failure"}.items())
    assert metrics[("peakshop_tasks_total", failures)] == sqsq.MAX_RECEIVES
    assert platform.sql(platform.orders_db, "SELECT status FROM orders WHERE id = %s", (order_id,)) == [
        {"status": "pending"}
    ]

    broken.terminate()  # the fix: redeploy with the right configuration...
    broken.wait(20)
    platform.start("orders-worker")
    redrive = subprocess.run(  # ...then move the DLQ back
        [sys.executable, "-m", "apps.workers.redrive", "orders"],
        cwd=REPO,
        env={
            **os.environ,
            "PEAKSHOP_REDRIVE_QUEUE_URL_ORDERS": platform.queues["orders"],
            "PEAKSHOP_REDRIVE_AWS_ENDPOINT_URL": e.aws_endpoint_url,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert redrive.returncode == 0 and "moved 1 messages" in redrive.stdout, redrive.stderr

    def paid() -> bool:
        return (
            platform.sql(platform.orders_db, "SELECT status FROM orders WHERE id = %s", (order_id,))[0]["status"]
            == "paid"
        )

    assert wait_until(paid, 30), platform.log_tail("orders-worker")
    assert sqsq.depth(sqs, platform.dlqs["orders"]).visible == 0


def test_redrive_without_queue_url_fails_with_a_message():
    out = subprocess.run(
        [sys.executable, "-m", "apps.workers.redrive", "orders"],
        cwd=REPO,
        env={k: v for k, v in os.environ.items() if not k.startswith("PEAKSHOP_REDRIVE_")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "PEAKSHOP_REDRIVE_QUEUE_URL_ORDERS" in out.stderr
