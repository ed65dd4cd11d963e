"""RTO and latency figures from recorded outcomes."""

from __future__ import annotations

from apps.drills.loadgen import Checkout
from apps.drills.metrics import percentile, rto_s


def checkout(start: float, status: int | None) -> Checkout:
    return Checkout("k", "c", 1, 1, start, start + 0.2, status, "o" if status == 201 else None)


def test_rto_is_zero_when_writes_never_degrade() -> None:
    assert rto_s([checkout(t, 201) for t in (1, 2, 3)], fault_start=1.5) == 0.0


def test_rto_runs_until_writes_succeed_synchronously_again() -> None:
    writes = [checkout(1, 201), checkout(2, 202), checkout(4, None), checkout(6, 202), checkout(7, 201)]
    assert rto_s(writes, fault_start=1.5) == 5.7  # the first 201 after the last deferral ends at 7.2


def test_a_stalled_write_counts_until_writes_are_prompt_again() -> None:
    stalled = Checkout("k", "c", 1, 1, 2, 5.5, 201, "o")  # held 3.5 s, then written
    writes = [checkout(1, 201), stalled, checkout(5.6, 201)]
    assert rto_s(writes, fault_start=1.5) == 4.3  # the first prompt write after the stall ends at 5.8


def test_rto_is_none_when_writes_had_not_recovered() -> None:
    assert rto_s([checkout(1, 201), checkout(2, 202), checkout(3, 503)], fault_start=1.5) is None


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0 and percentile(values, 0.99) == 99.0
    assert percentile([], 0.5) == 0.0
