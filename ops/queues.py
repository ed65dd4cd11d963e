"""`dlq redrive`: move a queue's dead letters back onto it once the cause is fixed (send, then delete: a crash
in between duplicates a message, which the idempotent consumers absorb, but never loses one). The counts are
kept as the move goes, so a failure midway reports exactly how many moved."""

from __future__ import annotations

from typing import Any

from ops.aws import Aws
from ops.names import RegionNames
from ops.runbook import Planned, Precondition, Runbook, StepFailed, check_first, run_plan


def queue_url(sqs: Any, name: str) -> str | None:
    try:
        return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])
    except sqs.exceptions.QueueDoesNotExist:
        return None


def depth(sqs: Any, url: str) -> dict[str, int]:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return {
        "visible": int(attrs.get("ApproximateNumberOfMessages", 0)),
        "in_flight": int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
    }


def redrive(aws: Aws, region: RegionNames, book: Runbook, queue: str, limit: int) -> None:
    sqs = aws.client("sqs", region.region)
    urls: dict[str, str] = {}
    moved = {"moved": 0}

    def resolve() -> dict[str, Any]:
        for key, name in (("queue", region.queue(queue)), ("dlq", region.dlq(queue))):
            url = queue_url(sqs, name)
            if url is None:
                raise Precondition(f"queue {name} does not exist in {region.region}")
            urls[key] = url
        return {"queue": urls["queue"], "dlq": urls["dlq"], "dlq_depth": depth(sqs, urls["dlq"])}

    def move() -> dict[str, Any]:
        while moved["moved"] < limit:
            batch = sqs.receive_message(
                QueueUrl=urls["dlq"],
                MaxNumberOfMessages=min(10, limit - moved["moved"]),
                WaitTimeSeconds=0,
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not batch:
                break
            entries = []
            for index, message in enumerate(batch):
                entry: dict[str, Any] = {"Id": str(index), "MessageBody": message["Body"]}
                if message.get("MessageAttributes"):
                    entry["MessageAttributes"] = message["MessageAttributes"]
                entries.append(entry)
            sent = sqs.send_message_batch(QueueUrl=urls["queue"], Entries=entries)
            if sent.get("Failed"):
                raise StepFailed(f"{len(sent['Failed'])} messages could not be sent back: {sent['Failed'][:3]}")
            sqs.delete_message_batch(
                QueueUrl=urls["dlq"],
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
            )
            moved["moved"] += len(batch)
        return {"moved": moved["moved"], "dlq_depth_after": depth(sqs, urls["dlq"])}

    if not check_first(book, "resolve-queues", f"sqs:GetQueueUrl {region.queue(queue)} and its DLQ", resolve):
        return
    ok = run_plan(
        book,
        [
            Planned(
                "move-messages",
                f"sqs receive from {region.dlq(queue)}, send to {region.queue(queue)}, delete (limit {limit})",
                move,
                "Messages not yet moved stay in the DLQ (nothing is lost); fix the error and re-run.",
            )
        ],
    )
    book.result["moved"] = moved["moved"]
    if ok and not book.dry_run:
        book.next_actions.append(f"Watch {region.dlq(queue)}: messages that fail again come back to it.")
