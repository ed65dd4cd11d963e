"""Batched acknowledgements (apps/workers/sqs_transport.py) against moto's SQS server: every acknowledged
message is deleted soon after, in DeleteMessageBatch calls of at most 10; closing sends what is pending; a
stale receipt does not block the others; a delete that cannot be sent leaves the message to be redelivered."""

from __future__ import annotations

import secrets
from typing import Any

from apps.localdeps.process import free_port
from apps.localdeps.stack import wait_until
from apps.workers import queues as sqsq
from apps.workers.localenv import CheckoutPlatform
from apps.workers.sqs_transport import BATCH, AckBatcher


class CountingClient:
    """The real SQS client, recording the size of each DeleteMessageBatch call."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.batches: list[int] = []

    def delete_message_batch(self, **kwargs: Any) -> Any:
        self.batches.append(len(kwargs["Entries"]))
        return self.client.delete_message_batch(**kwargs)


def queue_with(sqs: Any, n: int, visibility_s: int = 30) -> tuple[str, list[str]]:
    url = sqs.create_queue(QueueName=f"acks-{secrets.token_hex(4)}")["QueueUrl"]
    for i in range(0, n, 10):
        entries = [{"Id": str(j), "MessageBody": "m"} for j in range(min(10, n - i))]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    handles: list[str] = []
    while len(handles) < n:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=visibility_s)
        handles += [m["ReceiptHandle"] for m in got.get("Messages", [])]
    return url, handles


def in_queue(sqs: Any, url: str) -> int:
    d = sqsq.depth(sqs, url)
    return d.visible + d.in_flight


def test_acknowledged_messages_are_deleted_in_batches_without_waiting_for_close(platform: CheckoutPlatform):
    sqs = platform.sqs()
    url, handles = queue_with(sqs, 25)
    client, acks = CountingClient(sqs), AckBatcher()
    for h in handles:
        acks.add(client, url, h)
    assert wait_until(lambda: in_queue(sqs, url) == 0, 5)
    assert sum(client.batches) == 25
    assert max(client.batches) <= BATCH and len(client.batches) < 25
    acks.close()


def test_close_sends_what_is_pending_and_a_stale_receipt_does_not_block_the_others(platform: CheckoutPlatform):
    sqs = platform.sqs()
    url, handles = queue_with(sqs, 3)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=handles[0])  # already deleted: a stale receipt
    acks = AckBatcher()
    for h in handles:
        acks.add(sqs, url, h)
    acks.close()
    assert in_queue(sqs, url) == 0


def test_a_delete_that_cannot_be_sent_leaves_the_message_to_be_redelivered(platform: CheckoutPlatform):
    sqs = platform.sqs()
    url, handles = queue_with(sqs, 1, visibility_s=1)
    unreachable = sqsq.sqs_client(f"http://127.0.0.1:{free_port()}", platform.deps.endpoints.aws_region)
    acks = AckBatcher()
    acks.add(unreachable, url, handles[0])
    acks.close()  # logs the failure, raises nothing
    redelivered = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=3).get("Messages", [])
    assert len(redelivered) == 1
