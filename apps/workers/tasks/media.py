"""Thumbnails of uploaded product images (Pillow), written back to S3 under thumbnails/. Idempotent: the
output key is a function of the input key, so a redelivered message rewrites the same object."""

from __future__ import annotations

import io
from typing import Any

from celery import Celery
from PIL import Image

from apps.workers import schema
from apps.workers.context import WorkerContext

SOURCE_PREFIX = "products/"
THUMB_PREFIX = "thumbnails/"
MAX_SOURCE_BYTES = 20_000_000


def thumbnail_key(key: str, size: int) -> str:
    stem = key[len(SOURCE_PREFIX) :].rsplit(".", 1)[0]
    return f"{THUMB_PREFIX}{stem}-{size}.jpg"


def make_thumbnail(data: bytes, size: int) -> bytes:
    with Image.open(io.BytesIO(data)) as img:
        img.thumbnail((size, size))
        out = io.BytesIO()
        img.convert("RGB").save(out, "JPEG", quality=85)
        return out.getvalue()


def register(app: Celery, ctx: WorkerContext) -> None:
    s3 = ctx.aws_client("s3")
    bucket, size = ctx.settings.media_bucket, ctx.settings.thumbnail_px

    @app.task(bind=True, name=schema.THUMBNAIL, max_retries=ctx.settings.max_retries)
    @schema.versioned(schema.THUMBNAIL)
    def thumbnail(self: Any, key: str) -> str:
        if not key.startswith(SOURCE_PREFIX) or ".." in key:
            raise schema.UnsupportedSchema(f"not a product media key: {key!r}")
        head = s3.head_object(Bucket=bucket, Key=key)
        if head["ContentLength"] > MAX_SOURCE_BYTES:
            raise ValueError(f"{key} is too large to thumbnail")
        data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        target = thumbnail_key(key, size)
        s3.put_object(Bucket=bucket, Key=target, Body=make_thumbnail(data, size), ContentType="image/jpeg")
        return target
