"""A worker survives SQS server errors on ReceiveMessage. kombu turns a 5xx (or a timeout) into an empty list
that its JSON-protocol path cannot read, which stopped the worker ("Unrecoverable error", exit status 0) when
moto stumbled during the checkout bench. Here a proxy in front of moto's server answers the worker's first
receives with 500; the worker must keep polling and then do its work."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from apps.localdeps.stack import wait_until
from apps.workers.localenv import CheckoutPlatform
from apps.workers.tests.conftest import put_product_image, request_thumbnail

FAILURES = 3


class FlakyProxy(ThreadingHTTPServer):
    """Forwards every request to moto's server, except the first FAILURES ReceiveMessage calls: those get 500."""

    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.upstream = urlsplit(upstream)
        self.failed = 0
        self.lock = threading.Lock()

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hung up mid-answer (the worker stopping) is not the test's subject

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def should_fail(self, target: str, body: bytes) -> bool:
        if not (target.endswith(".ReceiveMessage") or b"Action=ReceiveMessage" in body):
            return False
        with self.lock:
            self.failed += 1
            return self.failed <= FAILURES


class _Forward(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the worker's curl client expects
    server: FlakyProxy

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.server.should_fail(self.headers.get("X-Amz-Target", ""), body):
            self._answer(500, [("Content-Type", "application/x-amz-json-1.0")], b'{"__type": "InternalError"}')
            return
        up = self.server.upstream
        conn = http.client.HTTPConnection(up.hostname or "127.0.0.1", up.port, timeout=30)
        try:
            conn.request(self.command, self.path, body or None, dict(self.headers.items()))
            resp = conn.getresponse()
            payload = resp.read()
            skip = ("content-length", "connection", "transfer-encoding")
            headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in skip]
            if self.command == "HEAD":  # no body, but the length of the one a GET would have returned
                headers.append(("Content-Length", resp.getheader("Content-Length", "0")))
            self._answer(resp.status, headers, payload)
        finally:
            conn.close()

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _forward

    def _answer(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def flaky_proxy(upstream: str) -> Iterator[FlakyProxy]:
    proxy = FlakyProxy(upstream)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.shutdown()
        proxy.server_close()


def test_a_worker_keeps_polling_through_receive_server_errors(platform: CheckoutPlatform):
    e = platform.deps.endpoints
    s3 = put_product_image(platform, "products/7/boot.png", (640, 480))
    with flaky_proxy(e.aws_endpoint_url) as proxy:
        queue_url = platform.queues["media"].replace(e.aws_endpoint_url, proxy.url)
        worker = platform.start("media-worker", AWS_ENDPOINT_URL=proxy.url, QUEUE_URL_MEDIA=queue_url)
        assert wait_until(lambda: proxy.failed > FAILURES, 30), platform.log_tail("media-worker")
        request_thumbnail(platform, "products/7/boot.png")

        def thumbnail_written() -> bool:
            return s3.list_objects_v2(Bucket=e.buckets["media"], Prefix="thumbnails/7/").get("KeyCount", 0) == 1

        assert wait_until(thumbnail_written, 30), platform.log_tail("media-worker")
        assert worker.poll() is None, platform.log_tail("media-worker")
