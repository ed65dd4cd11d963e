"""What `make up` promises: every process healthy, queues with their DLQ and redrive policy, buckets, the
demo catalog with pictures, and the ALB's path rules."""

from __future__ import annotations

import json
import time

import requests

from apps.platform import deps, lifecycle, settings
from apps.platform.inventory import bucket_name, queue_name
from apps.workers.queues import MAX_RECEIVES
from stacks.workloads import BUCKETS, QUEUES


def test_every_process_is_healthy(shop_url: str) -> None:
    deadline = time.monotonic() + 30  # other tests restart instances and move endpoints: allow them to settle
    while True:
        rows = lifecycle.status_rows(settings.load())
        assert rows is not None
        unhealthy = [r for r in rows if not r.healthy]
        if not unhealthy or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert unhealthy == []
    names = {r.name.split(":", 1)[1] for r in rows}
    assert {"mariadb-writer", "mariadb-replica", "redis", "moto", "haproxy", "catalog-1", "catalog-2"} <= names


def test_queues_have_dead_letter_queues_and_buckets_exist(shop_url: str) -> None:
    sqs, s3 = deps.aws_clients(settings.load())
    for q in QUEUES:
        url = sqs.get_queue_url(QueueName=queue_name(q))["QueueUrl"]
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]
        policy = json.loads(attrs["RedrivePolicy"])
        assert int(policy["maxReceiveCount"]) == MAX_RECEIVES == 5
        assert policy["deadLetterTargetArn"].endswith(f":{queue_name(q)}-dlq")
    names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert {bucket_name(b) for b in BUCKETS} <= names


def test_alb_path_rules(shop_url: str) -> None:
    home = requests.get(f"{shop_url}/", timeout=10)
    assert home.status_code == 200 and "text/html" in home.headers["Content-Type"]
    listing = requests.get(f"{shop_url}/api/catalog/products?page_size=1", timeout=10).json()
    assert listing["total"] >= settings.load().demo_products
    detail = requests.get(f"{shop_url}/api/catalog/products/{listing['items'][0]['id']}", timeout=10).json()
    picture = requests.get(detail["media"][0]["url"], timeout=10)
    assert picture.status_code == 200 and picture.headers["Content-Type"] == "image/jpeg"
    unknown = requests.get(f"{shop_url}/api/nothing/here", timeout=10)
    assert unknown.status_code == 404 and unknown.headers["Content-Type"] == "application/problem+json"
    assert requests.get(f"{shop_url}/readyz", timeout=10).status_code == 200  # the region health path
    assert requests.post(f"{shop_url}/index.html", timeout=10).status_code == 405  # the CDN serves reads only
