"""The storefront's retry policy (storefront/retry-policy.json, the one copy) for Python clients: the Locust
load profile and the drills' load client retry exactly as a shopper's browser does (js/retry.js)."""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from apps.platform.settings import STOREFRONT_DIR

POLICY_FILE = STOREFRONT_DIR / "retry-policy.json"
RETRY_AFTER = re.compile(r"\s*\d+(\.\d+)?\s*", re.ASCII)  # delay-seconds; an HTTP date or garbage is ignored


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_delay_ms: int
    max_delay_ms: int
    retry_after_max_ms: int
    timeout_ms: int
    retry_statuses: tuple[int, ...]
    retry_network_errors: bool
    idempotent_methods: tuple[str, ...]
    idempotency_key_header: str

    @classmethod
    def load(cls, path: Path = POLICY_FILE) -> RetryPolicy:
        raw = json.loads(path.read_text())
        return cls(
            max_attempts=int(raw["max_attempts"]),
            base_delay_ms=int(raw["base_delay_ms"]),
            max_delay_ms=int(raw["max_delay_ms"]),
            retry_after_max_ms=int(raw["retry_after_max_ms"]),
            timeout_ms=int(raw["timeout_ms"]),
            retry_statuses=tuple(int(s) for s in raw["retry_statuses"]),
            retry_network_errors=bool(raw["retry_network_errors"]),
            idempotent_methods=tuple(m.upper() for m in raw["idempotent_methods"]),
            idempotency_key_header=str(raw["idempotency_key_header"]),
        )

    def should_retry(self, method: str, headers: Mapping[str, str], status: int | None, attempt: int) -> bool:
        """May attempt `attempt` (1 = first), which ended in `status` (None: network error/timeout), be retried?"""
        if attempt >= self.max_attempts:
            return False
        keyed = any(name.lower() == self.idempotency_key_header.lower() for name in headers)
        if method.upper() not in self.idempotent_methods and not keyed:
            return False
        if status is None:
            return self.retry_network_errors
        return status in self.retry_statuses

    def backoff_ms(self, attempt: int, retry_after: str | None, rand: Callable[[], float] = random.random) -> int:
        """Retry-After seconds (capped) if the server gave them, else full-jitter exponential back-off."""
        if retry_after is not None and RETRY_AFTER.fullmatch(retry_after):
            return math.floor(min(float(retry_after) * 1000, self.retry_after_max_ms))
        ceiling = min(self.max_delay_ms, self.base_delay_ms * 2 ** (attempt - 1))
        return math.floor(rand() * ceiling)
