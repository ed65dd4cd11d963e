"""Task names and message schema versions, the contract between producers and workers.

Every message carries `v`. A worker accepts the versions listed here; during a rolling deploy the new worker
still accepts the old version before any producer sends the new one (expand/contract, as for SQL). A message
with an unknown version fails without being acknowledged, so after MAX_RECEIVES it lands in the DLQ, from
where it can be redriven once a worker that understands it is deployed."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

PLACE_ORDER = "orders.place"  # a checkout accepted (202) while the writer was unreachable
SETTLE_ORDER = "orders.settle"  # authorize + capture, then paid; or cancel and release stock
ORDER_EMAIL = "notifications.order_email"
THUMBNAIL = "media.thumbnail"

CURRENT: dict[str, int] = {PLACE_ORDER: 1, SETTLE_ORDER: 1, ORDER_EMAIL: 1, THUMBNAIL: 1}
ACCEPTED: dict[str, frozenset[int]] = {name: frozenset({v}) for name, v in CURRENT.items()}


class UnsupportedSchema(ValueError):
    """A message this worker cannot interpret: never retried here, left for the DLQ."""


def versioned(task_name: str) -> Callable[[F], F]:
    """Check `v` before the handler runs; the handler receives the payload without it."""

    def wrap(fn: F) -> F:
        @wraps(fn)
        def inner(self: Any, *args: Any, v: Any = None, **payload: Any) -> Any:
            if args or v not in ACCEPTED[task_name]:
                raise UnsupportedSchema(f"{task_name}: schema version {v!r} not in {sorted(ACCEPTED[task_name])}")
            return fn(self, **payload)

        return inner  # type: ignore[return-value]

    return wrap
