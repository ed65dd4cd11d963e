"""Per-scenario figures from the load client's records: requests, raw and user-visible errors, latency
percentiles during the fault, and the time to recover writes (RTO)."""

from __future__ import annotations

import math

from apps.drills.loadgen import Outcome

SYNC_WRITE = (200, 201)
WRITE_STALL_S = 2.0


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q * len(ordered))))
    return ordered[rank - 1]


def latency_ms(outcomes: list[Outcome], start: float, end: float) -> tuple[float, float]:
    during = [(o.ended - o.started) * 1000 for o in outcomes if start <= o.started <= end]
    return round(percentile(during, 0.50), 1), round(percentile(during, 0.99), 1)


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_write(o: Outcome) -> bool:
    return o.name.split(" ", 1)[0] in WRITE_METHODS


def healthy_write(o: Outcome) -> bool:
    """Written synchronously at the first attempt without stalling: a write that needed the retry policy, was
    deferred (202) or was held for seconds while the database endpoint had nowhere to go is not a working
    write, even if it completes in the end."""
    return o.raw_errors == 0 and o.status in SYNC_WRITE and o.ended - o.started <= WRITE_STALL_S


def rto_s(outcomes: list[Outcome], fault_start: float) -> float | None:
    """Seconds from the fault until every kind of write (new cart, cart item, checkout) succeeds again and keeps
    succeeding: 0.0 if writes never degraded, None if they had not recovered when the load stopped. Counting
    cart writes too matters: a shopper whose cart cannot be created never reaches the checkout."""
    after = sorted((o for o in outcomes if is_write(o) and o.ended >= fault_start), key=lambda o: o.started)
    bad = [o for o in after if not healthy_write(o)]
    if not bad:
        return 0.0
    last_bad_start = max(o.started for o in bad)
    good = [o.ended for o in after if healthy_write(o) and o.started > last_bad_start]
    if not good:
        return None
    return round(min(good) - fault_start, 2)
