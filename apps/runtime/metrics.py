"""Prometheus metrics for every service. Under gunicorn with PROMETHEUS_MULTIPROC_DIR set, values from all
workers are aggregated at /metrics; each app gets its own registry so tests can build many apps."""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "peakshop_http_requests", "HTTP requests", ["service", "route", "method", "status"], registry=r
        )
        self.latency = Histogram(
            "peakshop_http_request_duration_seconds",
            "HTTP request latency",
            ["service", "route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.cache = Counter("peakshop_cache_requests", "Cache lookups by result", ["service", "result"], registry=r)
        self.db_route = Counter(
            "peakshop_db_route",
            "Database statements by target and routing reason",
            ["service", "target", "reason"],
            registry=r,
        )
        self.db_retries = Counter("peakshop_db_retries", "Retried failover-class DB errors", ["service"], registry=r)
        self.replica_lag = Gauge(
            "peakshop_db_replica_lag_seconds",
            "Last measured replica lag (-1: unknown/stopped)",
            ["service"],
            registry=r,
            multiprocess_mode="max",
        )
        # labels() is a locked lookup that re-validates every value; these run on every request, so keep the children
        self._cache_children: dict[str, Any] = {}
        self._route_children: dict[tuple[str, str], Any] = {}

    def count_route(self, target: str, reason: str) -> None:
        child = self._route_children.get((target, reason))
        if child is None:
            child = self._route_children[(target, reason)] = self.db_route.labels(self.service, target, reason)
        child.inc()

    def count_cache(self, result: str) -> None:
        child = self._cache_children.get(result)
        if child is None:
            child = self._cache_children[result] = self.cache.labels(self.service, result)
        child.inc()

    def exposition(self) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)

    def value(self, name: str, **labels: str) -> float:
        """Current sample value (tests and drills read metrics through this, as a scraper would)."""
        found = self.registry.get_sample_value(name, {"service": self.service, **labels})
        return found or 0.0
