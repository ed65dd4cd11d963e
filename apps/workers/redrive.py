"""`python -m apps.workers.redrive <queue> [--limit N]`: move the messages in a queue's DLQ back onto the
queue once the cause is fixed. Queue URLs come from PEAKSHOP_REDRIVE_QUEUE_URL_<QUEUE>; the DLQ is the one
the queue's redrive policy names."""

from __future__ import annotations

import argparse
import os
import sys

from apps.workers import queues as sqsq
from apps.workers.config import queue_key
from stacks.workloads import QUEUES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apps.workers.redrive")
    parser.add_argument("queue", choices=QUEUES)
    parser.add_argument("--limit", type=int, default=10_000)
    args = parser.parse_args(argv)
    env = f"PEAKSHOP_REDRIVE_{queue_key(args.queue)}"
    url = os.environ.get(env, "")
    if not url:
        print(f"redrive: set {env} to the queue URL", file=sys.stderr)
        return 2
    sqs = sqsq.sqs_client(
        os.environ.get("PEAKSHOP_REDRIVE_AWS_ENDPOINT_URL", ""),
        os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "eu-west-1")),
    )
    dlq = sqsq.dlq_url_of(sqs, url)
    if dlq is None:
        print(f"redrive: {url} has no redrive policy (no DLQ)", file=sys.stderr)
        return 2
    moved = sqsq.redrive(sqs, dlq, url, args.limit)
    print(f"redrive: moved {moved} messages from {dlq} to {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
