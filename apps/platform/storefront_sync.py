"""Publish storefront/ to the storefront bucket (in AWS: S3 behind CloudFront), with content types, skipping
unchanged files (ETag = MD5 for single-part uploads)."""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path
from typing import Any

TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json", ".svg": "image/svg+xml"}


def content_type(path: Path) -> str:
    kind = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith("text/") or kind == "application/json" else kind


def sync(s3: Any, bucket: str, folder: Path) -> int:
    """Upload new or changed files and delete removed ones; returns the number of objects written."""
    existing = {
        o["Key"]: o["ETag"].strip('"')
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for o in page.get("Contents", [])
    }
    written = 0
    wanted = set()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        key = path.relative_to(folder).as_posix()
        if key.endswith(".md"):
            continue  # documentation, not served
        wanted.add(key)
        body = path.read_bytes()
        if existing.get(key) == hashlib.md5(body, usedforsecurity=False).hexdigest():
            continue
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type(path))
        written += 1
    for key in set(existing) - wanted:
        s3.delete_object(Bucket=bucket, Key=key)
    return written
