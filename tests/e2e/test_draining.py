"""Zero-downtime restarts through the local ALB: stopping one gunicorn instance (SIGTERM: /readyz turns 503,
haproxy's health check takes it out, in-flight requests finish) and starting it again loses no request."""

from __future__ import annotations

import threading
import time
from collections import Counter

import requests

from apps.platform import control, settings


def wait_for_state(s: settings.LocalSettings, state: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not (now := control.haproxy_servers(s)["svc_catalog"]["catalog-1"]).startswith(state):
        assert time.monotonic() < deadline, f"catalog-1 is {now}, not {state}, after {timeout:.0f}s"
        time.sleep(0.2)


def test_an_instance_restart_under_traffic_loses_no_request(shop_url: str) -> None:
    s = settings.load()
    sup = control.Supervisor(s)
    stop = threading.Event()
    outcomes: Counter[str] = Counter()
    served_by: Counter[str] = Counter()
    lock = threading.Lock()

    def shopper(product_id: int) -> None:
        with requests.Session() as http:
            while not stop.is_set():
                try:
                    resp = http.get(f"{shop_url}/api/catalog/products/{product_id}", timeout=5)
                    outcome, server = str(resp.status_code), resp.headers.get("X-Served-By", "?")
                except requests.RequestException as exc:
                    outcome, server = type(exc).__name__, "-"
                with lock:
                    outcomes[outcome] += 1
                    served_by[server] += 1

    threads = [threading.Thread(target=shopper, args=(i + 1,)) for i in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(1)
        sup.rpc.stopProcess("web:catalog-1", True)  # returns once the process has exited (after draining)
        wait_for_state(s, "DOWN")
        with lock:
            during = served_by.copy()
        sup.rpc.startProcess("web:catalog-1", True)
        wait_for_state(s, "UP")
        time.sleep(1.5)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert set(outcomes) == {"200"}, outcomes
    assert outcomes["200"] > 50
    assert during["catalog-2"] > 0 and served_by["catalog-1"] > during["catalog-1"], served_by  # both served
