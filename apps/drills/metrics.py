"""Per-scenario figures from the load client's records: requests, raw and user-visible errors, latency
percentiles during the fault, and the time to recover writes (RTO)."""

from __future__ import annotations

import math

from apps.drills.loadgen import Checkout, Outcome

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


def healthy_write(c: Checkout) -> bool:
    """Written synchronously without stalling: a checkout held for seconds while the database endpoint has
    nowhere to go is not a working write, even if it completes in the end."""
    return c.status in SYNC_WRITE and c.ended - c.started <= WRITE_STALL_S


def rto_s(checkouts: list[Checkout], fault_start: float) -> float | None:
    """Seconds from the fault until checkouts are written synchronously again and stay so: 0.0 if writes
    never degraded (errors, 202 deferrals, stalls), None if they had not recovered when the load stopped."""
    after = sorted((c for c in checkouts if c.ended >= fault_start), key=lambda c: c.started)
    bad = [c for c in after if not healthy_write(c)]
    if not bad:
        return 0.0
    last_bad_start = max(c.started for c in bad)
    good = [c.ended for c in after if healthy_write(c) and c.started > last_bad_start]
    if not good:
        return None
    return round(min(good) - fault_start, 2)
