"""Product media in S3: uploads go straight from the admin's browser to S3 with a presigned POST (the app
never proxies bytes), and shoppers fetch them through CloudFront URLs."""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


class MediaStore:
    def __init__(
        self, bucket: str, cdn_base_url: str, endpoint_url: str, region: str, max_bytes: int, url_ttl_s: int
    ) -> None:
        self.bucket = bucket
        self.cdn_base_url = cdn_base_url
        self.endpoint_url = endpoint_url or None
        self.region = region
        self.max_bytes = max_bytes
        self.url_ttl_s = url_ttl_s
        self._client: Any = None
        self._lock = threading.Lock()

    @property
    def s3(self) -> Any:
        """Created on first use: boto3 client construction is slow and most requests never touch S3."""
        with self._lock:
            if self._client is None:
                self._client = boto3.client(
                    "s3",
                    endpoint_url=self.endpoint_url,
                    region_name=self.region,
                    config=Config(signature_version="s3v4", retries={"max_attempts": 3, "mode": "standard"}),
                )
            return self._client

    @staticmethod
    def object_key(product_id: int, filename: str) -> str:
        """Deterministic per (product, filename), so a retried upload request reuses the same object."""
        digest = hashlib.sha256(f"{product_id}/{filename}".encode()).hexdigest()[:16]
        return f"products/{product_id}/{digest}-{filename.lower()}"

    def presigned_upload(self, key: str, content_type: str) -> dict[str, Any]:
        post = self.s3.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, self.max_bytes]],
            ExpiresIn=self.url_ttl_s,
        )
        return {"url": post["url"], "fields": post["fields"], "expires_in": self.url_ttl_s, "max_bytes": self.max_bytes}

    def uploaded(self, key: str, content_type: str) -> bool:
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return bool(0 < head["ContentLength"] <= self.max_bytes and head.get("ContentType") == content_type)

    def describe(self, media: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": media["id"],
            "url": f"{self.cdn_base_url}/{media['object_key']}",
            "content_type": media["content_type"],
            "status": media["status"],
        }
