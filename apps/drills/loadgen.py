"""Open-loop load at a fixed rate through the local ALB, as shoppers' browsers send it: catalog reads plus a
steady stream of checkouts (new cart, add an item, check out with an Idempotency-Key). Every logical request
applies the storefront's retry policy (apps/platform/retry_policy.py, the one JSON) and nothing more; each
attempt that fails is a raw error, each logical request that still fails is a user-visible error (expected
4xx such as out-of-stock are neither)."""

from __future__ import annotations

import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from apps.platform.retry_policy import RetryPolicy

POLICY = RetryPolicy.load()
EXPECTED_4XX = frozenset({400, 404, 409, 410, 422})  # business answers (e.g. out of stock), not failures


@dataclass
class Outcome:
    started: float  # monotonic
    ended: float
    name: str
    status: int | None  # final HTTP status (None: network error/timeout)
    attempts: int
    raw_errors: int
    error: bool


@dataclass
class Checkout:
    key: str
    cart_id: str
    product_id: int
    quantity: int
    started: float
    ended: float
    status: int | None
    order_id: str | None  # 201/200: the order; 202: None until the worker places it


@dataclass
class LoadStats:
    outcomes: list[Outcome] = field(default_factory=list)
    checkouts: list[Checkout] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)


def is_error(status: int | None) -> bool:
    return status is None or (status >= 400 and status not in EXPECTED_4XX)


class LoadClient:
    def __init__(self, base_url: str, products: list[int], rate: float, checkout_share: float) -> None:
        self.base = base_url.rstrip("/")
        self.products = products
        self.rate = rate
        self.checkout_share = checkout_share
        self.stats = LoadStats()
        self.stop = threading.Event()
        self.local = threading.local()
        self.pool = ThreadPoolExecutor(max_workers=96, thread_name_prefix="shopper")
        self.dispatcher = threading.Thread(target=self._dispatch, name="dispatcher", daemon=True)

    # -------------------------------------------------------------------------------------------- one request
    def session(self) -> requests.Session:
        if not hasattr(self.local, "http"):
            self.local.http = requests.Session()
        return self.local.http  # type: ignore[no-any-return]

    def call(self, method: str, path: str, name: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        """One logical request under the storefront's retry policy; returns (status, json)."""
        headers = {"Accept": "application/json", **(headers or {})}
        started = time.monotonic()
        raw_errors, status, data = 0, None, None
        attempt = 0
        for attempt in range(1, POLICY.max_attempts + 1):
            retry_after = None
            try:
                resp = self.session().request(
                    method, self.base + path, json=body, headers=headers, timeout=POLICY.timeout_ms / 1000
                )
                status, retry_after = resp.status_code, resp.headers.get("Retry-After")
                data = resp.json() if resp.headers.get("Content-Type", "").startswith("application/json") else None
            except (requests.RequestException, ValueError):
                status, data = None, None
            if not is_error(status):
                break
            raw_errors += 1
            if not POLICY.should_retry(method, headers, status, attempt):
                break
            time.sleep(POLICY.backoff_ms(attempt, retry_after) / 1000)
        self.stats.add(Outcome(started, time.monotonic(), name, status, attempt, raw_errors, is_error(status)))
        return status, data

    # ---------------------------------------------------------------------------------------------- the mix
    def browse(self) -> None:
        roll = random.random()
        if roll < 0.6:
            pid = random.choice(self.products)
            self.call("GET", f"/api/catalog/products/{pid}", "GET product")
        elif roll < 0.9:
            self.call("GET", f"/api/catalog/products?page={random.randint(1, 3)}&page_size=24", "GET products")
        else:
            self.call("GET", "/api/catalog/categories", "GET categories")

    def checkout(self) -> None:
        status, cart = self.call(
            "POST", "/api/cart/carts", "POST cart", headers={"Idempotency-Key": f"drill-cart-{uuid.uuid4().hex}"}
        )
        if status not in (200, 201) or not cart:
            return
        pid, qty = random.choice(self.products), 1
        status, cart = self.call(
            "PUT", f"/api/cart/carts/{cart['id']}/items/{pid}", "PUT cart item", body={"quantity": qty}
        )
        if status != 200 or not cart:
            return
        key = f"drill-{uuid.uuid4().hex}"
        body = {
            "cart_id": cart["id"],
            "currency": cart["currency"],
            "email": f"drill-{key[-12:]}@example.com",
            "lines": [
                {"product_id": i["product_id"], "quantity": i["quantity"], "unit_price_cents": i["unit_price_cents"]}
                for i in cart["items"]
            ],
            "payment": {"token": "tok_approve", "card_last4": "4242"},
        }
        started = time.monotonic()
        status, order = self.call(
            "POST", "/api/orders/checkout", "POST checkout", body=body, headers={"Idempotency-Key": key}
        )
        order_id = order.get("id") if isinstance(order, dict) and status in (200, 201) else None
        with self.stats.lock:
            self.stats.checkouts.append(
                Checkout(key, cart["id"], pid, qty, started, time.monotonic(), status, order_id)
            )

    # ---------------------------------------------------------------------------------------------- pacing
    def _dispatch(self) -> None:
        """Fixed arrival rate (open loop): a slow platform gets the same offered load, as real users do."""
        interval = 1.0 / self.rate
        checkout_every = max(1, round(1 / self.checkout_share))
        n = 0
        next_at = time.monotonic()
        while not self.stop.is_set():
            n += 1
            # A checkout flow is three requests; count it as such so the offered rate stays `rate`.
            if n % checkout_every == 0:
                self.pool.submit(self.checkout)
                next_at += interval * 3
            else:
                self.pool.submit(self.browse)
                next_at += interval
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def start(self) -> None:
        self.dispatcher.start()

    def finish(self) -> LoadStats:
        self.stop.set()
        self.dispatcher.join(5)
        self.pool.shutdown(wait=True)
        return self.stats
