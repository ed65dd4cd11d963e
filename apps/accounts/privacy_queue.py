"""Erasure requests onto the `privacy` SQS queue, for the privacy worker to erase what other services hold.
Sent after the erasing transaction commits; unsent rows in the outbox are re-sent by
`python -m apps.accounts relay-erasures`, so a queue outage delays propagation but never loses it."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import boto3
from botocore.config import Config

log = logging.getLogger("peakshop.privacy")


class PrivacyQueue:
    def __init__(self, queue_url: str, endpoint_url: str, region: str) -> None:
        self.queue_url = queue_url
        self.endpoint_url = endpoint_url or None
        self.region = region
        self._client: Any = None
        self._lock = threading.Lock()

    @property
    def sqs(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = boto3.client(
                    "sqs",
                    endpoint_url=self.endpoint_url,
                    region_name=self.region,
                    config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"}),
                )
            return self._client

    def send_erasure(self, request: dict[str, Any]) -> bool:
        body = {
            "type": "account.erasure_requested",
            "request_id": request["id"],
            "account_id": int(request["account_id"]),
            "requested_at": request["requested_at"].isoformat(),
        }
        try:
            self.sqs.send_message(
                QueueUrl=self.queue_url,
                MessageBody=json.dumps(body),
                MessageAttributes={"type": {"DataType": "String", "StringValue": body["type"]}},
            )
            return True
        except Exception as exc:  # the outbox row stays unsent; the relay retries
            log.warning("erasure request not queued yet", extra={"request_id": request["id"], "error": str(exc)})
            return False
