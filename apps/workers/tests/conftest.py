"""Worker fixtures and helpers: a checkout platform whose queues have a 2 s visibility timeout, so a poison message
reaches its DLQ after MAX_RECEIVES receives within seconds."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from flask import Flask
from PIL import Image

from apps.localdeps import LocalDeps
from apps.orders.app import create_app
from apps.testing import ContractClient
from apps.workers import schema
from apps.workers.celery_app import make_celery, send
from apps.workers.localenv import CheckoutPlatform


@pytest.fixture(scope="module")
def platform(deps: LocalDeps) -> Iterator[CheckoutPlatform]:
    p = CheckoutPlatform(deps, visibility_timeout_s=2)
    yield p
    p.close()


@pytest.fixture(scope="module")
def orders_app(platform: CheckoutPlatform) -> Iterator[Flask]:
    app = create_app(platform.orders_env())
    yield app
    app.extensions["peakshop"].db.close()


@pytest.fixture
def api(orders_app: Flask) -> ContractClient:
    return ContractClient(orders_app, "orders")


def put_product_image(platform: CheckoutPlatform, key: str, size: tuple[int, int]) -> Any:
    """A PNG of `size` at `key` in the media bucket, as the catalog's upload leaves it; returns the S3 client."""
    e = platform.deps.endpoints
    s3 = boto3.client("s3", endpoint_url=e.aws_endpoint_url, region_name=e.aws_region)
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, "PNG")
    s3.put_object(Bucket=e.buckets["media"], Key=key, Body=buf.getvalue())
    return s3


def request_thumbnail(platform: CheckoutPlatform, key: str) -> None:
    e = platform.deps.endpoints
    app = make_celery("test", {"media": platform.queues["media"]}, e.aws_endpoint_url, e.aws_region, 2, 1)
    send(app, schema.THUMBNAIL, schema.CURRENT[schema.THUMBNAIL], {"key": key})
