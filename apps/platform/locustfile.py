"""Black-Friday load profile (Locust): shoppers who mostly browse and search, some add to cart, a few check
out; users ramp up to the peak, hold it, then stop. Every request applies the storefront's retry policy
(storefront/retry-policy.json) and is recorded once, as the shopper experiences it: latency includes the
retries, and a failure is a request that still failed after them. Run by `make load` (apps/platform/load.py),
which passes PEAKSHOP_LOAD_USERS, PEAKSHOP_LOAD_DURATION_S and PEAKSHOP_LOAD_REPORT. The drills reuse it."""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from pathlib import Path
from typing import Any

import requests
from locust import HttpUser, LoadTestShape, between, events, task
from locust.env import Environment

from apps.platform.retry_policy import RetryPolicy

POLICY = RetryPolicy.load()
USERS = int(os.environ.get("PEAKSHOP_LOAD_USERS", "50"))
DURATION_S = int(os.environ.get("PEAKSHOP_LOAD_DURATION_S", "120"))
RAMP_FRACTION = 0.3  # the first 30% of the run ramps up to the peak, the rest holds it
REPORT = Path(os.environ.get("PEAKSHOP_LOAD_REPORT", "reports/load.json"))
SEARCH_TERMS = ("backpack", "lamp", "kettle", "yoga", "speaker", "pen", "puzzle", "gloves", "pro", "eco")
COUNTERS = {"checkouts": 0, "retries": 0}
ORDER_IDS: list[str] = []  # checked at the end: every placed order must settle (paid), none lost
SETTLE_TIMEOUT_S = 60


class BlackFriday(LoadTestShape):
    """Linear ramp to USERS over RAMP_FRACTION of the run, hold at the peak, stop at DURATION_S."""

    def tick(self) -> tuple[int, float] | None:
        elapsed = self.get_run_time()
        if elapsed >= DURATION_S:
            return None
        ramp_s = max(1.0, DURATION_S * RAMP_FRACTION)
        users = max(1, min(USERS, round(USERS * elapsed / ramp_s) + 1))
        return users, max(1.0, USERS / ramp_s * 2)


class Shopper(HttpUser):
    wait_time = between(0.5, 2.5)

    def on_start(self) -> None:
        self.http = requests.Session()
        self.cart_id: str | None = None
        self.product_ids: list[int] = []
        self.categories: list[str] = []
        categories = self.call("GET", "/api/catalog/categories", "/api/catalog/categories")
        if categories is not None:
            self.categories = [c["slug"] for c in categories["items"]]
        page = self.call("GET", "/api/catalog/products?page_size=100", "/api/catalog/products")
        if page is not None:
            self.product_ids = [p["id"] for p in page["items"] if p["in_stock"]]

    # one logical request with the retry policy --------------------------------------------------------------
    def call(self, method: str, path: str, name: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        headers = {"Accept": "application/json", **(headers or {})}
        started = time.perf_counter()
        error: Exception | None = None
        result: Any = None
        length = 0
        for attempt in range(1, POLICY.max_attempts + 1):
            status: int | None = None
            retry_after = None
            try:
                resp = self.http.request(
                    method, self.host + path, json=body, headers=headers, timeout=POLICY.timeout_ms / 1000
                )
                status, length, retry_after = resp.status_code, len(resp.content), resp.headers.get("Retry-After")
                if status < 400:
                    is_json = resp.headers.get("Content-Type", "").startswith("application/json")
                    result, error = (resp.json() if is_json else resp.text), None
                    break
                error = RuntimeError(f"HTTP {status}: {resp.text[:160]}")
            except (requests.RequestException, ValueError) as exc:
                error = RuntimeError(f"network: {type(exc).__name__}")
            if not POLICY.should_retry(method, headers, status, attempt):
                break
            COUNTERS["retries"] += 1
            time.sleep(POLICY.backoff_ms(attempt, retry_after) / 1000)
        elapsed_ms = (time.perf_counter() - started) * 1000
        self.environment.events.request.fire(
            request_type=method,
            name=name,
            response_time=elapsed_ms,
            response_length=length,
            exception=error,
            context={},
        )
        return None if error else result

    # tasks: weights give the browse-heavy mix ---------------------------------------------------------------
    @task(6)
    def browse_category(self) -> None:
        if self.categories:
            slug = random.choice(self.categories)
            page = random.randint(1, 2)
            self.call("GET", f"/api/catalog/products?category={slug}&page={page}&page_size=24", "/api/catalog/products")

    @task(3)
    def search(self) -> None:
        q = random.choice(SEARCH_TERMS)
        self.call("GET", f"/api/catalog/products?q={q}&page_size=24", "/api/catalog/products?q")

    @task(8)
    def view_product(self) -> None:
        if self.product_ids:
            pid = random.choice(self.product_ids)
            self.call("GET", f"/api/catalog/products/{pid}", "/api/catalog/products/{id}")

    @task(1)
    def storefront_page(self) -> None:
        self.call("GET", "/", "/ (storefront)", headers={"Accept": "text/html"})

    @task(3)
    def add_to_cart(self) -> None:
        if not self.product_ids:
            return
        if self.cart_id is None:
            key = {"Idempotency-Key": f"cart-{uuid.uuid4().hex}"}  # makes creation safe to retry
            cart = self.call("POST", "/api/cart/carts", "/api/cart/carts", headers=key)
            if cart is None:
                return
            self.cart_id = cart["id"]
        pid = random.choice(self.product_ids)
        self.call(
            "PUT",
            f"/api/cart/carts/{self.cart_id}/items/{pid}",
            "/api/cart/carts/{id}/items/{pid}",
            body={"quantity": random.randint(1, 2)},
        )

    @task(2)
    def view_cart(self) -> None:
        if self.cart_id:
            self.call("GET", f"/api/cart/carts/{self.cart_id}", "/api/cart/carts/{id}")

    @task(1)
    def checkout(self) -> None:
        if not self.cart_id:
            return
        cart = self.call("GET", f"/api/cart/carts/{self.cart_id}", "/api/cart/carts/{id}")
        if not cart or not cart["items"]:
            return
        body = {
            "cart_id": cart["id"],
            "currency": cart["currency"],
            "email": f"load-{uuid.uuid4().hex[:8]}@example.com",
            "lines": [
                {"product_id": i["product_id"], "quantity": i["quantity"], "unit_price_cents": i["unit_price_cents"]}
                for i in cart["items"]
            ],
            "payment": {"token": "tok_approve", "card_last4": "4242"},
        }
        order = self.call(
            "POST",
            "/api/orders/checkout",
            "/api/orders/checkout",
            body=body,
            headers={"Idempotency-Key": f"load-{uuid.uuid4().hex}"},
        )
        if order is not None:
            COUNTERS["checkouts"] += 1
            self.cart_id = None  # a new cart for the next purchase
            if "id" in order:
                ORDER_IDS.append(order["id"])
                self.call("GET", f"/api/orders/orders/{order['id']}", "/api/orders/orders/{id}")


def settle(host: str) -> dict[str, int]:
    """Wait (bounded) until no placed order is pending; count orders by final status."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    statuses: dict[str, str] = {}
    with requests.Session() as http:
        while True:
            for order_id in ORDER_IDS:
                if statuses.get(order_id, "pending") == "pending":
                    resp = http.get(f"{host}/api/orders/orders/{order_id}", timeout=10)
                    statuses[order_id] = resp.json()["status"] if resp.ok else f"http-{resp.status_code}"
            if "pending" not in statuses.values() or time.monotonic() > deadline:
                break
            time.sleep(1)
    counts: dict[str, int] = {}
    for status in statuses.values():
        counts[status] = counts.get(status, 0) + 1
    return counts


@events.test_stop.add_listener
def write_report(environment: Environment, **_: Any) -> None:
    stats = environment.stats
    total = stats.total
    by_endpoint = {
        f"{entry.method} {entry.name}": entry.num_failures for entry in stats.entries.values() if entry.num_failures
    }
    duration = max(1e-9, (total.last_request_timestamp or 0) - (total.start_time or 0))
    report = {
        "users": USERS,
        "duration_s": DURATION_S,
        "requests": total.num_requests,
        "failures": total.num_failures,
        "failures_by_endpoint": by_endpoint,
        "errors": {f"{e.method} {e.name}: {e.error}": e.occurrences for e in stats.errors.values()},
        "p50_ms": round(total.get_response_time_percentile(0.50) or 0, 1),
        "p95_ms": round(total.get_response_time_percentile(0.95) or 0, 1),
        "p99_ms": round(total.get_response_time_percentile(0.99) or 0, 1),
        "rps": round(total.num_requests / duration, 1),
        "checkouts": COUNTERS["checkouts"],
        "orders_by_status": settle(environment.host or ""),  # after the run, bounded wait for settlement
        "retries": COUNTERS["retries"],
        "endpoints": {
            f"{e.method} {e.name}": {
                "requests": e.num_requests,
                "p50_ms": round(e.get_response_time_percentile(0.5) or 0, 1),
                "p99_ms": round(e.get_response_time_percentile(0.99) or 0, 1),
            }
            for e in sorted(stats.entries.values(), key=lambda e: -e.num_requests)
        },
    }
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2) + "\n")
