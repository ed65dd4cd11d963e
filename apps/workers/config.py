"""Settings of the worker processes (and of the web services that enqueue tasks), PEAKSHOP_<WORKLOAD>_<KEY>.

Queue URLs come one variable per queue, and a workload must be given exactly the queues stacks/workloads.py
says it consumes or produces. The broker visibility timeout must exceed the hard task time limit, otherwise
SQS would hand a still-running task to a second worker."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from apps.runtime.config import (
    COMMON_SETTINGS,
    ConfigError,
    Setting,
    Settings,
    choice,
    http_url,
    integer,
    load_settings,
)
from apps.runtime.config import number as number_setting
from apps.runtime.config import text as text_setting
from stacks.workloads import WORKLOADS, Workload

AWS_SETTINGS: tuple[Setting, ...] = (
    Setting("AWS_ENDPOINT_URL", http_url, "", "SQS/S3 endpoint override (local moto server); empty on AWS"),
    Setting("AWS_REGION", text_setting(1), "eu-west-1", "Region of the queues and buckets"),
)
# The database subset of the runtime's common settings (one definition, shared with the web services).
DB_SETTINGS: tuple[Setting, ...] = tuple(
    s for s in COMMON_SETTINGS if s.key.startswith(("DB_", "REPLICA_", "READER_", "READ_YOUR_WRITES"))
)
BROKER_SETTINGS: tuple[Setting, ...] = (
    Setting("VISIBILITY_TIMEOUT_S", integer(1, 43200), "300", "SQS visibility timeout (matches the queues)"),
    Setting("TASK_TIME_LIMIT_S", integer(1, 43200), "120", "Hard task time limit; must be below the visibility"),
    Setting("WAIT_TIME_S", integer(0, 20), "10", "SQS long-poll wait"),
    Setting("CONCURRENCY", integer(1, 64), "4", "Tasks run in parallel per worker process"),
    Setting("POOL", choice("threads", "prefork", "solo"), "threads", "Celery pool (threads: I/O-bound tasks)"),
    Setting("MAX_RETRIES", integer(0, 50), "5", "Bounded retries (with backoff) of a failing task"),
    Setting("RETRY_BACKOFF_S", number_setting(0.01, 600), "2", "First retry delay; doubles per retry, jittered"),
    Setting("METRICS_PORT", integer(0, 65535), "9100", "Prometheus metrics port (0: off)"),
    Setting("LOG_LEVEL", choice("DEBUG", "INFO", "WARNING", "ERROR"), "INFO", "Log level"),
)


def workload(name: str) -> Workload:
    for w in WORKLOADS:
        if w.name == name:
            return w
    raise ConfigError(f"unknown workload {name!r}")


def queue_key(queue: str) -> str:
    return f"QUEUE_URL_{queue.upper()}"


def queue_settings(name: str) -> tuple[Setting, ...]:
    w = workload(name)
    queues = sorted(set(w.consumes) | set(w.produces))
    return tuple(Setting(queue_key(q), http_url, None, f"URL of the SQS queue `{q}`") for q in queues)


def queue_urls(settings: Settings, name: str) -> dict[str, str]:
    w = workload(name)
    return {q: settings[queue_key(q)] for q in sorted(set(w.consumes) | set(w.produces))}


def load_worker_settings(name: str, extra: tuple[Setting, ...], environ: Mapping[str, str] | None = None) -> Settings:
    settings = load_settings(name, (*AWS_SETTINGS, *BROKER_SETTINGS, *queue_settings(name), *extra), environ)
    if settings.task_time_limit_s >= settings.visibility_timeout_s:
        raise ConfigError(
            f"invalid configuration: TASK_TIME_LIMIT_S ({settings.task_time_limit_s}) must be below "
            f"VISIBILITY_TIMEOUT_S ({settings.visibility_timeout_s}) or SQS redelivers running tasks"
        )
    return settings


def broker_url(endpoint_url: str, access_key: str = "", secret_key: str = "") -> str:
    """kombu's SQS transport ignores endpoint_url: it builds the endpoint from the broker URL's host and port
    (http unless is_secure). On AWS the URL is bare `sqs://` and boto3 finds IRSA credentials itself."""
    if not endpoint_url:
        return "sqs://"
    parts = urlsplit(endpoint_url)
    return f"sqs://{access_key}:{secret_key}@{parts.hostname}:{parts.port or 80}"
