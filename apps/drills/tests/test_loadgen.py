"""The drill's load client applies the storefront's retry policy and nothing more, against a real HTTP
server that fails on demand: idempotent and keyed requests are retried within the bound, a plain POST is
not, expected 4xx answers are neither errors nor retried."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.drills.loadgen import POLICY, LoadClient


class FlakyServer:
    """Answers each path with the next status in its script (then 200)."""

    def __init__(self) -> None:
        self.script: dict[str, list[int]] = {}
        self.hits: Counter[str] = Counter()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.hits[self.path] += 1
                queue = server.script.get(self.path, [])
                status = queue.pop(0) if queue else 200
                body = json.dumps({"status": status}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Retry-After", "0")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def flaky() -> Iterator[FlakyServer]:
    server = FlakyServer()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def client(flaky: FlakyServer) -> LoadClient:
    return LoadClient(flaky.url, [1], rate=1, checkout_share=0.1)


def test_get_is_retried_until_it_succeeds(flaky: FlakyServer) -> None:
    assert 503 in POLICY.retry_statuses and POLICY.max_attempts >= 3
    flaky.script["/a"] = [503, 503]
    c = client(flaky)
    status, _ = c.call("GET", "/a", "GET a")
    (outcome,) = c.stats.outcomes
    assert status == 200 and flaky.hits["/a"] == 3
    assert (outcome.raw_errors, outcome.error, outcome.attempts) == (2, False, 3)


def test_retries_are_bounded_by_the_policy(flaky: FlakyServer) -> None:
    flaky.script["/b"] = [503] * (POLICY.max_attempts + 2)
    c = client(flaky)
    status, _ = c.call("GET", "/b", "GET b")
    assert status == 503 and flaky.hits["/b"] == POLICY.max_attempts
    assert c.stats.outcomes[0].error and c.stats.outcomes[0].raw_errors == POLICY.max_attempts


def test_post_without_idempotency_key_is_not_retried(flaky: FlakyServer) -> None:
    assert "POST" not in POLICY.idempotent_methods
    flaky.script["/c"] = [503]
    c = client(flaky)
    status, _ = c.call("POST", "/c", "POST c", body={})
    assert status == 503 and flaky.hits["/c"] == 1 and c.stats.outcomes[0].error


def test_post_with_idempotency_key_is_retried(flaky: FlakyServer) -> None:
    flaky.script["/d"] = [502]
    c = client(flaky)
    status, _ = c.call("POST", "/d", "POST d", body={}, headers={POLICY.idempotency_key_header: "k1"})
    assert status == 200 and flaky.hits["/d"] == 2 and not c.stats.outcomes[0].error


def test_expected_4xx_is_an_answer_not_an_error(flaky: FlakyServer) -> None:
    flaky.script["/e"] = [409]
    c = client(flaky)
    status, _ = c.call("POST", "/e", "POST e", body={}, headers={POLICY.idempotency_key_header: "k2"})
    assert status == 409 and flaky.hits["/e"] == 1
    assert (c.stats.outcomes[0].raw_errors, c.stats.outcomes[0].error) == (0, False)


def test_network_error_counts_and_is_retried_for_get() -> None:
    c = LoadClient("http://127.0.0.1:1", [1], rate=1, checkout_share=0.1)
    status, _ = c.call("GET", "/x", "GET x")
    assert status is None
    outcome = c.stats.outcomes[0]
    assert outcome.error and outcome.raw_errors == POLICY.max_attempts == outcome.attempts
