"""Per-process resources of a worker (databases, provider, clients), built once from its validated settings."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import boto3

from apps.payments.ledger import Ledger
from apps.payments.provider import build_provider
from apps.runtime.cache import Cache
from apps.runtime.config import Settings
from apps.runtime.db import Database
from apps.runtime.metrics import Metrics
from apps.workers.config import DB_SETTINGS
from apps.workers.metrics import WorkerMetrics


def backoff_s(retries: int, base: float, cap: float = 60.0) -> float:
    """Exponential backoff with jitter (half fixed, half random) for task retries."""
    delay = min(cap, base * 2**retries)
    return delay / 2 + random.uniform(0, delay / 2)


@dataclass
class WorkerContext:
    workload: str
    settings: Settings
    metrics: WorkerMetrics = field(init=False)

    def __post_init__(self) -> None:
        self.metrics = WorkerMetrics(self.workload)

    @cached_property
    def runtime_metrics(self) -> Metrics:
        return Metrics(self.workload)

    @cached_property
    def db(self) -> Database:
        return Database(self.settings, self.runtime_metrics)

    @cached_property
    def payments_db(self) -> Database:
        values = {spec.key: self.settings[spec.key] for spec in DB_SETTINGS}
        values.update(DB_WRITER_URL=self.settings.payments_db_url, DB_READER_URL=None)
        return Database(Settings(self.workload, values), self.runtime_metrics)

    @cached_property
    def cart_db(self) -> Database:
        values = {spec.key: self.settings[spec.key] for spec in DB_SETTINGS}
        values.update(DB_WRITER_URL=self.settings.cart_db_url, DB_READER_URL=None)
        return Database(Settings(self.workload, values), self.runtime_metrics)

    @cached_property
    def cart_cache(self) -> Cache:
        """Cart's cache, addressed with cart's service prefix so its keys are the ones cart reads."""
        return Cache(
            self.settings.redis_url, "cart", self.runtime_metrics, 60, 0.5, 1.0, iam_group=self.settings.redis_iam_group
        )

    @cached_property
    def ledger(self) -> Ledger:
        s = self.settings
        return Ledger(
            self.payments_db, build_provider(s.payments_provider, s.payments_fake_ledger, s.payments_fake_latency_s)
        )

    def aws_client(self, service: str) -> Any:
        s = self.settings
        return boto3.client(service, region_name=s.aws_region, endpoint_url=s.aws_endpoint_url or None)

    def backoff(self, retries: int) -> float:
        return backoff_s(retries, self.settings.retry_backoff_s)
