"""The storefront (js/retry.js, run under Node) and the Python load client decide retries identically, from
the one policy file; and the policy itself keeps its promises (bounded, idempotent requests only)."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from apps.platform.retry_policy import RetryPolicy
from apps.platform.settings import REPO, STOREFRONT_DIR

POLICY = RetryPolicy.load()
METHODS = ("GET", "HEAD", "PUT", "DELETE", "POST", "PATCH", "post")
HEADERS = ({}, {"Idempotency-Key": "k-123456"}, {"idempotency-key": "k-123456"}, {"Authorization": "Bearer x"})
STATUSES = (None, 200, 400, 404, 409, 429, 500, 502, 503, 504)
RETRY_AFTER = (None, "", "0", "1", "2.5", "30", " 3 ", "Wed, 21 Oct 2026 07:28:00 GMT", "-1", "1e3", "Infinity")


def node() -> str:
    found = shutil.which("node") or next((p for p in (REPO / ".tools" / "bin" / "node",) if p.exists()), None)
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true and node is missing (scripts/setup.sh installs Node 22 in .tools)")
        pytest.skip("node not found; run `make setup`")
    return str(found)


def run_js(cases: dict[str, list[list[object]]], tmp_path: Path) -> dict[str, list[object]]:
    script = tmp_path / "decide.mjs"
    script.write_text(
        f"""
import policy from {json.dumps(str(STOREFRONT_DIR / "retry-policy.json"))} with {{ type: "json" }};
import {{ shouldRetry, backoffMs }} from {json.dumps(str(STOREFRONT_DIR / "js" / "retry.js"))};
const cases = JSON.parse(process.argv[2]);
const out = {{
  retry: cases.retry.map(([m, h, s, a]) => shouldRetry(policy, m, h, s, a)),
  backoff: cases.backoff.map(([a, ra, r]) => backoffMs(policy, a, ra, () => r)),
}};
console.log(JSON.stringify(out));
"""
    )
    done = subprocess.run([node(), str(script), json.dumps(cases)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_javascript_and_python_decide_identically(tmp_path: Path) -> None:
    retry_cases = [
        [m, h, s, a] for m, h, s, a in itertools.product(METHODS, HEADERS, STATUSES, range(1, POLICY.max_attempts + 2))
    ]
    backoff_cases = [[a, ra, r] for a in range(1, 7) for ra in RETRY_AFTER for r in (0.0, 0.37, 0.999)]
    js = run_js({"retry": retry_cases, "backoff": backoff_cases}, tmp_path)
    py_retry = [POLICY.should_retry(m, h, s, a) for m, h, s, a in retry_cases]  # type: ignore[arg-type]
    py_backoff = [POLICY.backoff_ms(a, ra, lambda r=r: r) for a, ra, r in backoff_cases]  # type: ignore[misc]
    mismatches = [(c, j, p) for c, j, p in zip(retry_cases, js["retry"], py_retry, strict=True) if j != p]
    assert not mismatches, mismatches[:5]
    mismatches = [(c, j, p) for c, j, p in zip(backoff_cases, js["backoff"], py_backoff, strict=True) if j != p]
    assert not mismatches, mismatches[:5]
    assert any(py_retry) and not all(py_retry)  # the table exercises both answers


def test_only_idempotent_or_keyed_requests_are_retried_and_never_beyond_the_bound() -> None:
    assert not POLICY.should_retry("POST", {}, 503, 1)
    assert not POLICY.should_retry("POST", {}, None, 1)
    assert POLICY.should_retry("POST", {"Idempotency-Key": "abcdefgh"}, 503, 1)
    assert POLICY.should_retry("GET", {}, None, 1)
    assert not POLICY.should_retry("GET", {}, 500, 1)  # a bug, not an outage: retrying would not help
    assert not POLICY.should_retry("GET", {}, 409, 1)
    assert not POLICY.should_retry("GET", {}, 503, POLICY.max_attempts)


def test_backoff_honours_retry_after_with_a_cap_and_jitters_otherwise() -> None:
    assert POLICY.backoff_ms(1, "2") == 2000
    assert POLICY.backoff_ms(1, "3600") == POLICY.retry_after_max_ms
    ceilings = [POLICY.backoff_ms(a, None, lambda: 0.999999) for a in range(1, 10)]
    assert ceilings == sorted(ceilings) and ceilings[-1] < POLICY.max_delay_ms
    assert POLICY.backoff_ms(3, None, lambda: 0.0) == 0
