"""kombu's SQS transport, with acknowledgements batched off the consumer's event loop.

kombu acknowledges an SQS message with one blocking DeleteMessage call on the worker's event loop, so a worker
finishes at most 1 / (DeleteMessage latency) tasks a second however many threads run them: at 100 checkouts/s
the orders worker's loop spent 78% of its time there (py-spy) and its queue grew. Here each acknowledgement
releases the prefetch slot at once and hands the delete to a thread that sends DeleteMessageBatch calls (up to
10 receipts each) at most FLUSH_S later. Delivery guarantees are unchanged: a delete lost to a crash in that
window, or one SQS refuses, leaves the message to reappear after its visibility timeout, exactly as a crash
before the acknowledgement would, and idempotent handlers absorb the second delivery. Closing the channel
(warm shutdown) sends what is pending first. A receive that fails with a server error no longer stops the
worker (see `Channel._on_messages_ready`)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from kombu.transport import SQS, virtual

FLUSH_S = 0.2  # fewer, fuller delete calls at moderate rates; a message only stays in flight that much longer
BATCH = 10  # DeleteMessageBatch's limit
log = logging.getLogger("peakshop.workers.sqs")


class AckBatcher:
    """Receipt handles per queue URL, deleted in batches by one daemon thread (started at the first ack)."""

    def __init__(self) -> None:
        self._pending: dict[str, tuple[Any, list[str]]] = {}
        self._wake = threading.Condition()
        self._closing = False
        self._thread: threading.Thread | None = None

    def add(self, client: Any, queue_url: str, receipt_handle: str) -> None:
        with self._wake:
            handles = self._pending.setdefault(queue_url, (client, []))[1]
            handles.append(receipt_handle)
            if self._thread is None or not self._thread.is_alive():
                self._closing = False
                self._thread = threading.Thread(target=self._run, name="sqs-acks", daemon=True)
                self._thread.start()
            if len(handles) >= BATCH:
                self._wake.notify()

    def close(self) -> None:
        with self._wake:
            self._closing = True
            self._wake.notify()
            thread = self._thread
        if thread is not None:
            thread.join(30)
        self._send(self._take())  # acks that arrived after the thread's last round (or without a thread)

    def _full(self) -> bool:
        return self._closing or any(len(h) >= BATCH for _, h in self._pending.values())

    def _take(self) -> dict[str, tuple[Any, list[str]]]:
        with self._wake:
            taken, self._pending = self._pending, {}
        return taken

    def _run(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(self._full, timeout=FLUSH_S)
                closing = self._closing
            self._send(self._take())
            if closing:
                return

    @staticmethod
    def _send(pending: dict[str, tuple[Any, list[str]]]) -> None:
        for url, (client, handles) in pending.items():
            for i in range(0, len(handles), BATCH):
                chunk = handles[i : i + BATCH]
                try:
                    answer = client.delete_message_batch(
                        QueueUrl=url, Entries=[{"Id": str(n), "ReceiptHandle": h} for n, h in enumerate(chunk)]
                    )
                except Exception as exc:  # the messages reappear after their visibility timeout
                    log.warning("acknowledgements not sent", extra={"queue_url": url, "error": str(exc)})
                    continue
                refused = [f for f in answer.get("Failed", []) if f.get("Code") != "ReceiptHandleIsInvalid"]
                if refused:
                    log.warning("acknowledgements refused", extra={"queue_url": url, "failed": refused[:3]})


class Channel(SQS.Channel):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._acks = AckBatcher()

    def basic_ack(self, delivery_tag: Any, multiple: bool = False) -> None:
        try:
            info = self.qos.get(delivery_tag).delivery_info
            receipt, url = info["sqs_message"]["ReceiptHandle"], info["sqs_queue"]
        except KeyError:  # not an SQS delivery: kombu's own handling
            super().basic_ack(delivery_tag, multiple)
            return
        queue = self.canonical_queue_name(info["routing_key"]) if "routing_key" in info else None
        self._acks.add(self.sqs(queue=queue), url, receipt)
        virtual.Channel.basic_ack(self, delivery_tag, multiple)  # release the prefetch slot, skip the sync delete

    def _on_messages_ready(self, queue: str, qname: str, messages: Any) -> int:
        # kombu turns a ReceiveMessage answered with a 5xx or a timeout into [] where its JSON-protocol path
        # expects the response dict, and the worker died of the AttributeError ("Unrecoverable error", exit 0)
        # when moto stumbled under load. SQS itself returns the odd 500: the next poll simply tries again.
        if isinstance(messages, list):
            log.warning("SQS receive failed (server error or timeout); polling again", extra={"queue": qname})
            return 0
        return int(super()._on_messages_ready(queue, qname, messages))

    def close(self) -> None:
        self._acks.close()
        super().close()


class Transport(SQS.Transport):
    Channel = Channel
