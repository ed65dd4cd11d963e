"""`python -P apps/localdeps/moto_main.py`: moto's server, cheaper per request and without one race; same answers.

The checkout bench found the stand-in, not the platform, setting the pipeline's pace: at 100 checkouts/s moto
used more CPU than gunicorn. Five costs and a race are removed here; every answer stays the same:
- SQS asks every message whether it is visible and not delayed on each send, receive, delete and attribute
  read, and each answer called `unix_time_millis()`, which builds two datetimes (about 9 us, against 0.1 us
  for `time.time()`). Those scans are O(messages in the queue), so a few thousand queued messages made each
  request cost tens of milliseconds. The clock's value is the same (ms since the epoch); an explicit datetime
  argument still goes to moto's own function.
- Each received message's retention check read the queue's retention period through get_queue_attributes,
  which computes every attribute three times, each with three O(messages) counts; it is read directly.
- Sending a message read the queue's full attribute map (three more O(messages) counts) only to look up
  ContentBasedDeduplication, an attribute that exists only on FIFO queues; for a standard queue the lookup is
  skipped, so a send no longer slows down as the backlog grows.
- Receiving listed the message groups of the queue's in-flight messages by iterating the live set while other
  request threads received or deleted messages: "Set changed size during iteration", a 500, about once a
  minute under the checkout bench. The set is copied first (one C-level step under the GIL).
- Routing each request listed moto's package directory (`os.listdir` plus a `stat` per entry); the listing
  of an installed package does not change while it runs, so it is read once.
- werkzeug wrote an access-log line per request; errors are still logged."""

from __future__ import annotations

import datetime
import functools
import logging
import sys
import threading
import time
from typing import Any

import moto.backends as moto_backends
import moto.sqs.models as sqs_models
from moto.server import main

_moto_unix_time_millis = sqs_models.unix_time_millis
_moto_modules = moto_backends.list_of_moto_modules


def unix_time_millis(dt: datetime.datetime | None = None) -> float:
    return time.time() * 1000.0 if dt is None else _moto_unix_time_millis(dt)


@functools.cache
def list_of_moto_modules() -> tuple[str, ...]:
    return tuple(_moto_modules())


def is_message_valid_based_on_retention_period(
    backend: sqs_models.SQSBackend, queue_name: str, message: sqs_models.Message
) -> bool:
    retention_s = backend.get_queue(queue_name).message_retention_period  # type: ignore[attr-defined]
    return bool(retention_s + message.sent_timestamp / 1000 > time.time())


_moto_send_message = sqs_models.SQSBackend.send_message
_moto_queue_attributes = sqs_models.Queue.attributes.fget  # type: ignore[attr-defined]
_sending = threading.local()  # moto's server answers each request on its own thread


def queue_attributes(queue: sqs_models.Queue) -> dict[str, Any]:
    if getattr(_sending, "standard_queue", False):
        return {}  # send_message reads only ContentBasedDeduplication here, which a standard queue never has
    return _moto_queue_attributes(queue)  # type: ignore[no-any-return]


def send_message(backend: sqs_models.SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> sqs_models.Message:
    if backend.get_queue(queue_name).fifo_queue:  # type: ignore[attr-defined]
        return _moto_send_message(backend, queue_name, *args, **kwargs)
    _sending.standard_queue = True
    try:
        return _moto_send_message(backend, queue_name, *args, **kwargs)
    finally:
        _sending.standard_queue = False


def pending_message_groups(queue: sqs_models.Queue) -> set[str]:
    return {m.group_id for m in list(queue._pending_messages) if m.group_id is not None}  # type: ignore[attr-defined]


def patch() -> None:
    sqs_models.unix_time_millis = unix_time_millis
    sqs_models.Queue.attributes = property(queue_attributes)  # type: ignore[method-assign,assignment]
    sqs_models.Queue.pending_message_groups = property(pending_message_groups)  # type: ignore[method-assign,assignment]
    sqs_models.SQSBackend.send_message = send_message  # type: ignore[method-assign]
    sqs_models.SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period  # type: ignore[method-assign]
    moto_backends.list_of_moto_modules = list_of_moto_modules
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


if __name__ == "__main__":
    patch()
    sys.exit(main())
