"""Worker families and worker configuration, with real processes against moto (SQS, S3) and MariaDB."""

from __future__ import annotations

import ast
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import redis
from PIL import Image

from apps.accounts.privacy_queue import PrivacyQueue
from apps.localdeps.stack import wait_until
from apps.orders.tests.conftest import checkout_body, new_key
from apps.runtime.erasure import erased_email
from apps.testing import ContractClient
from apps.workers import queues as sqsq
from apps.workers import schema
from apps.workers.localenv import REPO, CheckoutPlatform
from apps.workers.tests.conftest import put_product_image, request_thumbnail


def test_max_receives_matches_the_infrastructure_queues():
    tree = ast.parse((REPO / "peakshop_constructs/queue.py").read_text())
    infra = next(
        node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "MAX_RECEIVES" for t in node.targets)
    )
    assert infra == sqsq.MAX_RECEIVES


def test_unknown_schema_version_is_refused():
    calls = []

    @schema.versioned(schema.SETTLE_ORDER)
    def handler(self, order_id):
        calls.append(order_id)

    handler(None, v=1, order_id="a")
    for bad in ({"v": 2, "order_id": "b"}, {"order_id": "c"}):
        try:
            handler(None, **bad)
        except schema.UnsupportedSchema:
            pass
        else:
            raise AssertionError(f"{bad} accepted")
    assert calls == ["a"]


def run_worker(
    platform: CheckoutPlatform, name: str, unset: tuple[str, ...] = (), **overrides: str
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **platform.worker_env(name, **overrides)}
    env = {k: v for k, v in env.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "-m", "apps.workers", name], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )


def test_bad_worker_configuration_stops_with_a_message_naming_it(platform: CheckoutPlatform):
    clash = run_worker(platform, "orders-worker", VISIBILITY_TIMEOUT_S="30", TASK_TIME_LIMIT_S="60")
    assert clash.returncode == 4 and "TASK_TIME_LIMIT_S (60) must be below VISIBILITY_TIMEOUT_S (30)" in clash.stderr
    missing = run_worker(platform, "media-worker", unset=("PEAKSHOP_MEDIA_WORKER_QUEUE_URL_MEDIA",), THUMBNAIL_PX="abc")
    assert missing.returncode == 4
    assert "PEAKSHOP_MEDIA_WORKER_QUEUE_URL_MEDIA: required" in missing.stderr
    assert "PEAKSHOP_MEDIA_WORKER_THUMBNAIL_PX: expected an integer" in missing.stderr


def test_media_worker_writes_a_thumbnail_to_s3(platform: CheckoutPlatform):
    e = platform.deps.endpoints
    s3 = put_product_image(platform, "products/42/tent.png", (1200, 800))
    platform.start("media-worker")
    request_thumbnail(platform, "products/42/tent.png")

    def thumbnail() -> bytes | None:
        try:
            return s3.get_object(Bucket=e.buckets["media"], Key="thumbnails/42/tent-320.jpg")["Body"].read()
        except s3.exceptions.NoSuchKey:
            return None

    assert wait_until(lambda: thumbnail() is not None, 30), platform.log_tail("media-worker")
    with Image.open(io.BytesIO(thumbnail() or b"")) as img:
        assert (img.format, img.size) == ("JPEG", (320, 213))


def test_privacy_worker_erases_order_pii_from_accounts_requests(api: ContractClient, platform: CheckoutPlatform):
    (pid,) = platform.seed_products(1, stock=5)
    token = platform.session_token("4242")
    resp = api.post(
        "/api/orders/checkout",
        json=checkout_body([(pid, 1)]),
        headers={"Idempotency-Key": new_key(), "Authorization": f"Bearer {token}"},
    )
    order_id = resp.get_json()["id"]
    cart_id = "c" * 32
    platform.sql(platform.cart_db, "INSERT INTO carts (id, account_id, currency) VALUES (%s, 4242, 'EUR')", (cart_id,))
    e = platform.deps.endpoints
    cache = redis.Redis.from_url(e.redis_url)
    cache.set(f"cart:v1:cart:{cart_id}", b"{}")
    producer = PrivacyQueue(platform.queues["privacy"], e.aws_endpoint_url, e.aws_region)  # accounts' own sender
    assert producer.send_erasure({"id": "req-1", "account_id": 4242, "requested_at": datetime.now(UTC)})
    assert producer.send_erasure({"id": "req-1", "account_id": 4242, "requested_at": datetime.now(UTC)})  # dup
    platform.sqs().send_message(QueueUrl=platform.queues["privacy"], MessageBody=json.dumps({"type": "other"}))
    platform.start("privacy-worker")

    def erased() -> bool:
        row = platform.sql(platform.orders_db, "SELECT email, payment_token FROM orders WHERE id = %s", (order_id,))
        return row == [{"email": erased_email("4242"), "payment_token": "erased"}]

    assert wait_until(erased, 30), platform.log_tail("privacy-worker")
    assert platform.sql(platform.cart_db, "SELECT id FROM carts WHERE account_id = 4242") == []
    again = api.post(
        "/api/orders/checkout",
        json=checkout_body([(pid, 1)]),
        headers={"Idempotency-Key": new_key(), "Authorization": f"Bearer {token}"},
    )
    assert again.status_code == 401  # the session token has not expired, but its account is gone
    assert cache.get(f"cart:v1:cart:{cart_id}") is None
    # the unknown message was not deleted: it keeps coming back until the redrive policy dead-letters it
    assert wait_until(lambda: sqsq.depth(platform.sqs(), platform.dlqs["privacy"]).visible == 1, 40)
