"""RTO and latency figures from recorded outcomes."""

from __future__ import annotations

from apps.drills.loadgen import Outcome
from apps.drills.metrics import percentile, rto_s


def write(start: float, status: int | None, name: str = "POST checkout", raw_errors: int = 0) -> Outcome:
    return Outcome(start, start + 0.2, name, status, raw_errors + 1, raw_errors, status is None or status >= 500)


def read(start: float, status: int | None) -> Outcome:
    return Outcome(start, start + 0.2, "GET product", status, 1, 0, status is None)


def test_rto_is_zero_when_writes_never_degrade() -> None:
    failed_reads = [read(2, None), read(3, 503)]  # reads do not count
    assert rto_s([write(t, 201) for t in (1, 2, 3)] + failed_reads, fault_start=1.5) == 0.0


def test_rto_runs_until_writes_succeed_synchronously_again() -> None:
    writes = [write(1, 201), write(2, 202), write(4, None), write(6, 202), write(7, 201)]
    assert rto_s(writes, fault_start=1.5) == 5.7  # the first 201 after the last deferral ends at 7.2


def test_a_write_that_needed_retries_counts_even_when_it_succeeded() -> None:
    writes = [write(1, 201), write(2, 201, "POST cart", raw_errors=2), write(3, 200, "PUT cart item")]
    assert rto_s(writes, fault_start=1.5) == 1.7  # the prompt cart item write after the retried cart ends at 3.2


def test_a_stalled_write_counts_until_writes_are_prompt_again() -> None:
    stalled = Outcome(2, 5.5, "POST checkout", 201, 1, 0, False)  # held 3.5 s, then written
    writes = [write(1, 201), stalled, write(5.6, 201)]
    assert rto_s(writes, fault_start=1.5) == 4.3  # the first prompt write after the stall ends at 5.8


def test_rto_is_none_when_writes_had_not_recovered() -> None:
    assert rto_s([write(1, 201), write(2, 202), write(3, 503)], fault_start=1.5) is None


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0 and percentile(values, 0.99) == 99.0
    assert percentile([], 0.5) == 0.0
