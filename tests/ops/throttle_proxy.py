"""A real HTTP proxy in front of moto's server that answers chosen AWS actions with a `Throttling` error a
given number of times (moto has no throttling of its own), so the CLI's retry and failure reporting run
against real HTTP responses."""

from __future__ import annotations

import http.client
import threading
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

THROTTLED = (
    b'<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>'
    b"<Message>Rate exceeded</Message></Error><RequestId>throttled</RequestId></ErrorResponse>"
)


class ThrottleProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.budget: Counter[str] = Counter()  # action -> how many more calls to throttle
        self.throttled: Counter[str] = Counter()
        self.seen: Counter[str] = Counter()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                action = _action(self.path, body, self.headers.get("X-Amz-Target", ""))
                proxy.seen[action] += 1
                if proxy.budget[action] > 0:
                    proxy.budget[action] -= 1
                    proxy.throttled[action] += 1
                    self.send_response(400)
                    self.send_header("Content-Type", "text/xml")
                    self.send_header("Content-Length", str(len(THROTTLED)))
                    self.end_headers()
                    self.wfile.write(THROTTLED)
                    return
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for key, value in resp.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def throttle(self, action: str, times: int) -> None:
        self.budget[action] = times

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _action(path: str, body: bytes, target: str) -> str:
    if target:
        return target.rsplit(".", 1)[-1]
    for source in (urllib.parse.urlsplit(path).query, body.decode(errors="replace")):
        action = urllib.parse.parse_qs(source).get("Action")
        if action:
            return action[0]
    return ""
