"""Prometheus metrics of the worker processes: task outcomes (from Celery signals), relay progress, and the
depth of each consumed queue and of its DLQ, read from SQS at scrape time so a poison message that reached
the DLQ shows up (and alarms) without anyone looking at the console."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from celery import signals
from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from apps.workers import queues as sqsq

log = logging.getLogger("peakshop.workers.metrics")


class QueueDepthCollector(Collector):
    def __init__(self, sqs: Any, queue_urls: dict[str, str]) -> None:
        self.sqs = sqs
        self.queue_urls = queue_urls
        self._dlqs: dict[str, str | None] = {}

    def dlq(self, queue: str) -> str | None:
        if queue not in self._dlqs:
            self._dlqs[queue] = sqsq.dlq_url_of(self.sqs, self.queue_urls[queue])
        return self._dlqs[queue]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "peakshop_queue_messages",
            "SQS messages by queue, kind (main/dlq) and state",
            labels=["queue", "kind", "state"],
        )
        for queue, url in self.queue_urls.items():
            try:
                targets = [("main", url)]
                dlq = self.dlq(queue)
                if dlq:
                    targets.append(("dlq", dlq))
                for kind, target in targets:
                    d = sqsq.depth(self.sqs, target)
                    family.add_metric([queue, kind, "visible"], d.visible)
                    family.add_metric([queue, kind, "in_flight"], d.in_flight)
                    family.add_metric([queue, kind, "delayed"], d.delayed)
            except Exception as exc:  # a scrape must not fail because SQS is briefly unreachable
                log.warning("queue depth unavailable", extra={"queue": queue, "error": str(exc)})
        yield family


class WorkerMetrics:
    def __init__(self, workload: str) -> None:
        self.workload = workload
        self.registry = CollectorRegistry()
        r = self.registry
        self.tasks = Counter(
            "peakshop_tasks", "Task executions by outcome", ["workload", "task", "outcome"], registry=r
        )
        self.published = Counter("peakshop_outbox_published", "Outbox rows published to SQS", ["topic"], registry=r)
        self.publish_errors = Counter("peakshop_outbox_publish_errors", "Failed outbox publishes", registry=r)
        self.backlog = Gauge("peakshop_outbox_backlog", "Unsent outbox rows at the last poll", registry=r)

    def watch_queues(self, sqs: Any, queue_urls: dict[str, str]) -> QueueDepthCollector:
        collector = QueueDepthCollector(sqs, queue_urls)
        self.registry.register(collector)
        return collector

    def hook_celery(self) -> None:
        def outcome(name: str) -> Any:
            def handler(sender: Any = None, **_: Any) -> None:
                task = getattr(sender, "name", None) or getattr(getattr(_.get("request"), "task", None), "name", "?")
                self.tasks.labels(self.workload, str(task), name).inc()

            return handler

        for signal, name in (
            (signals.task_success, "success"),
            (signals.task_failure, "failure"),
            (signals.task_retry, "retry"),
        ):
            signal.connect(outcome(name), weak=False)

    def serve(self, port: int) -> None:
        if port:
            start_http_server(port, addr="0.0.0.0", registry=self.registry)

    def value(self, name: str, **labels: str) -> float:
        return float(self.registry.get_sample_value(name, labels) or 0.0)
