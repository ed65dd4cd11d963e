"""SQS queue helpers: create a queue with its DLQ and redrive policy (locally, where Terraform does not run;
the same shape as peakshop_constructs/queue.py), find a queue's DLQ, read depths, and redrive DLQ messages."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3

# Receives after which SQS moves a message to the DLQ. Must equal MAX_RECEIVES in peakshop_constructs/queue.py
# (not imported: that module pulls in cdktf); apps/workers/tests/test_queues.py keeps the two equal.
MAX_RECEIVES = 5
DLQ_RETENTION_S = 14 * 24 * 3600


def sqs_client(endpoint_url: str, region: str) -> Any:
    return boto3.client("sqs", region_name=region, endpoint_url=endpoint_url or None)


def create_queue_with_dlq(sqs: Any, name: str, visibility_timeout_s: int = 300) -> tuple[str, str]:
    """Returns (queue URL, DLQ URL); idempotent."""
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq", Attributes={"MessageRetentionPeriod": str(DLQ_RETENTION_S)})[
        "QueueUrl"
    ]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": str(visibility_timeout_s),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)}),
        },
    )["QueueUrl"]
    return url, dlq_url


def dlq_url_of(sqs: Any, queue_url: str) -> str | None:
    attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"]).get("Attributes", {})
    if "RedrivePolicy" not in attrs:
        return None
    arn = json.loads(attrs["RedrivePolicy"])["deadLetterTargetArn"]
    account, name = arn.split(":")[-2:]
    return str(sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"])


@dataclass(frozen=True)
class Depth:
    visible: int
    in_flight: int
    delayed: int


def depth(sqs: Any, queue_url: str) -> Depth:
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    a = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)["Attributes"]
    return Depth(*(int(a.get(n, 0)) for n in names))


def redrive(sqs: Any, dlq_url: str, target_url: str, limit: int = 10_000) -> int:
    """Move up to `limit` messages from the DLQ back to the source queue (send first, then delete: a crash
    in between duplicates a message, which idempotent handlers absorb, but never loses one)."""
    moved = 0
    while moved < limit:
        batch = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=min(10, limit - moved),
            WaitTimeSeconds=0,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not batch:
            break
        entries = []
        for i, m in enumerate(batch):
            entry: dict[str, Any] = {"Id": str(i), "MessageBody": m["Body"]}
            if m.get("MessageAttributes"):
                entry["MessageAttributes"] = m["MessageAttributes"]
            entries.append(entry)
        sent = sqs.send_message_batch(QueueUrl=target_url, Entries=entries)
        if sent.get("Failed"):
            raise RuntimeError(f"redrive: {len(sent['Failed'])} messages could not be sent: {sent['Failed'][:3]}")
        sqs.delete_message_batch(
            QueueUrl=dlq_url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
        )
        moved += len(batch)
    return moved
