"""What the local platform runs, derived from stacks/workloads.py: the dependencies, haproxy, every web
service that exists in this checkout (as >= 2 gunicorn instances) and every worker whose entry point exists.
A workload whose code has not landed yet is listed as skipped with the reason, so `make up` works at every
stage of the project and picks a service up as soon as its package is importable."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from apps.localdeps.stack import AWS_KEY, AWS_REGION
from apps.platform.secrets_store import SecretStore
from apps.platform.settings import VENV_BIN, LocalSettings
from apps.runtime.config import Setting, env_name
from stacks.workloads import BUCKETS, QUEUES, WEB_SERVICES, WORKLOADS, Workload

Group = Literal["deps", "alb", "web", "workers"]
Health = Literal["mysql", "redis", "http", "tcp", "process"]
SQS_ACCOUNT = "123456789012"  # moto's default account: queue URLs are known before moto runs


# Seconds a stopping gunicorn answers /readyz with 503 before it stops: longer than haproxy needs to take it
# out of rotation (3 failed checks at 1 s, render.CHECK).
LOCAL_DRAIN_S = 6


def database(service: str) -> str:
    return f"peakshop_{service.replace('-', '_')}"


def queue_name(queue: str) -> str:
    return f"peakshop-local-{queue}"


def bucket_name(bucket: str) -> str:
    return f"peakshop-local-{bucket}"


@dataclass(frozen=True)
class Program:
    name: str
    group: Group
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    port: int | None = None
    health: Health = "process"
    stop_wait_s: int = 30

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/readyz"


@dataclass(frozen=True)
class Skipped:
    workload: str
    reason: str


@dataclass
class Inventory:
    programs: list[Program]
    skipped: list[Skipped]

    def group(self, group: Group) -> list[Program]:
        return [p for p in self.programs if p.group == group]

    def web_instances(self, service: str) -> list[Program]:
        return [p for p in self.group("web") if p.name.rsplit("-", 1)[0] == service]

    @property
    def web_services(self) -> list[str]:
        return list(dict.fromkeys(p.name.rsplit("-", 1)[0] for p in self.group("web")))


class LocalValues:
    """Local value of a service setting `PEAKSHOP_<SERVICE>_<KEY>`: fixed keys, then naming patterns
    (`QUEUE_URL_<Q>`, `<BUCKET>_BUCKET`, `<SERVICE>_URL`, `<SERVICE>_SCHEMA`). None: no local value known."""

    def __init__(self, s: LocalSettings, store: SecretStore) -> None:
        self.s = s
        self.store = store

    def mysql_url(self, service: str, reader: bool = False, admin: bool = False) -> str:
        user, password = ("admin", self.store.get("mysql_admin")) if admin else ("app", self.store.get("mysql_app"))
        port = self.s.mysql_reader_endpoint if reader else self.s.mysql_writer_endpoint
        return f"mysql://{user}:{password}@127.0.0.1:{port}/{database(service)}"

    def queue_url(self, queue: str) -> str:
        return f"{self.s.moto_url}/{SQS_ACCOUNT}/{queue_name(queue)}"

    def value(self, service: str, key: str) -> str | None:
        fixed: dict[str, Callable[[], str]] = {
            "DB_WRITER_URL": lambda: self.mysql_url(service),
            "DB_READER_URL": lambda: self.mysql_url(service, reader=True),
            "DB_MIGRATE_URL": lambda: self.mysql_url(service, admin=True),
            "REDIS_URL": lambda: self.s.redis_url,
            "AWS_ENDPOINT_URL": lambda: self.s.moto_url,
            "AWS_REGION": lambda: AWS_REGION,
            "ADMIN_TOKEN": lambda: self.store.get(f"{service}_admin_token"),
            "SESSION_PUBLIC_KEY": self.store.session_public_key_b64,
            "SESSION_PRIVATE_KEY": lambda: self.store.key_b64("session_signing_seed"),
            "SESSION_SIGNING_KEY": lambda: self.store.key_b64("session_signing_seed"),
            "SIGNING_KEY": lambda: self.store.key_b64("session_signing_seed"),
            "PII_KEYS": lambda: "k1:" + self.store.key_b64("accounts_pii_key_k1"),
            "BLIND_INDEX_KEY": lambda: self.store.key_b64("accounts_blind_index_key"),
            "PAYMENTS_FAKE_LEDGER": lambda: str(self.s.data / "fake-payment-provider.sqlite"),
            "MAIL_SINK": lambda: str(self.s.logs / "mail.jsonl"),
            "CDN_BASE_URL": lambda: f"{self.s.url}/media",
            "LOG_LEVEL": lambda: "INFO",
            "DRAIN_S": lambda: str(LOCAL_DRAIN_S),
            "RETURN_URL": lambda: f"{self.s.url}/",
        }
        if key in fixed:
            return fixed[key]()
        if key.startswith("QUEUE_URL_") and key[10:].lower() in QUEUES:
            return self.queue_url(key[10:].lower())
        if key.endswith("_QUEUE_URL") and key[:-10].lower() in QUEUES:
            return self.queue_url(key[:-10].lower())
        if key.endswith("_DB_URL") and key[:-7].lower() in {w.name for w in WEB_SERVICES}:
            return self.mysql_url(key[:-7].lower())
        stem = key.rsplit("_", 1)[0].lower()
        if key.endswith("_BUCKET") and stem in BUCKETS:
            return bucket_name(stem)
        if key.endswith("_URL") and stem in {w.name for w in WEB_SERVICES}:
            return self.s.url  # service to service through the ALB, as in-cluster calls go through a Service
        if key.endswith("_SCHEMA") and stem in {w.name for w in WEB_SERVICES}:
            return database(stem)
        return None

    def environment(self, service: str, specs: tuple[Setting, ...], as_workload: str = "") -> dict[str, str]:
        """Values for every setting with a local value, named for `as_workload` (default: the service, whose
        database it uses); KeyError naming the first required setting without one."""
        owner = as_workload or service
        env: dict[str, str] = {}
        for spec in specs:
            value = self.value(service, spec.key)
            if value is None and spec.default is None:
                raise KeyError(f"no local value for required setting {env_name(owner, spec.key)}")
            if value is not None:
                env[env_name(owner, spec.key)] = value
        return env


def aws_env() -> dict[str, str]:
    """boto3 finds credentials in the environment, as it finds IRSA's on EKS; moto's dummies here."""
    return {"AWS_ACCESS_KEY_ID": AWS_KEY, "AWS_SECRET_ACCESS_KEY": AWS_KEY, "AWS_DEFAULT_REGION": AWS_REGION}


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def service_specs(service: str) -> tuple[Setting, ...]:
    """Every setting a service reads: the runtime's common ones plus its app module's SETTINGS."""
    from apps.runtime.config import COMMON_SETTINGS

    module: Any = importlib.import_module(f"apps.{service}.app")
    return (*COMMON_SETTINGS, *module.SETTINGS)


def web_programs(s: LocalSettings, values: LocalValues) -> tuple[list[Program], list[Skipped]]:
    programs: list[Program] = []
    skipped: list[Skipped] = []
    for index, w in enumerate(WEB_SERVICES):
        if not _module_exists(f"apps.{w.name}.wsgi"):
            skipped.append(Skipped(w.name, f"apps/{w.name}/wsgi.py does not exist yet"))
            continue
        try:
            env = values.environment(w.name, service_specs(w.name))
        except Exception as exc:  # an app that does not import yet is reported, not fatal for the others
            skipped.append(Skipped(w.name, f"{type(exc).__name__}: {exc}"))
            continue
        for instance in range(1, s.instances_per_service + 1):
            port = s.instance_port(index, instance)
            gunicorn_env = {
                "GUNICORN_BIND": f"127.0.0.1:{port}",
                "GUNICORN_WORKERS": str(s.gunicorn_workers),
                "GUNICORN_THREADS": str(s.gunicorn_threads),
            }
            command = [str(VENV_BIN / "gunicorn"), "-c", "apps/runtime/gunicorn_conf.py", f"apps.{w.name}.wsgi:app"]
            programs.append(
                Program(f"{w.name}-{instance}", "web", command, {**aws_env(), **env, **gunicorn_env}, port, "http", 45)
            )
    return programs, skipped


# Worker entry points (module argv) and the settings each reads, from the workers' own modules.
WORKER_ENTRY: dict[str, list[str]] = {w.name: ["-m", "apps.workers", w.name] for w in WORKLOADS if w.kind == "worker"}
WORKER_ENTRY["outbox-relay"] = ["-m", "apps.workers.relay"]
# The service database a worker works on (the orders schema: orders, outbox, deliveries, erasure records).
WORKER_DATABASE = {
    "outbox-relay": "orders",
    "orders-worker": "orders",
    "notifications-worker": "orders",
    "privacy-worker": "orders",
}


def _worker_specs(name: str) -> tuple[Setting, ...]:
    config: Any = importlib.import_module("apps.workers.config")
    if name == "outbox-relay":
        extra = importlib.import_module("apps.workers.relay").SETTINGS
    else:
        extra = importlib.import_module("apps.workers.__main__").EXTRA_SETTINGS[name]
    return (*config.AWS_SETTINGS, *config.BROKER_SETTINGS, *config.queue_settings(name), *extra)


def worker_programs(s: LocalSettings, values: LocalValues) -> tuple[list[Program], list[Skipped]]:
    programs: list[Program] = []
    skipped: list[Skipped] = []
    workers: list[Workload] = [w for w in WORKLOADS if w.kind == "worker"]
    for index, w in enumerate(workers):
        argv = WORKER_ENTRY[w.name]
        if not _module_exists(argv[1]):
            skipped.append(Skipped(w.name, f"entry point {argv[1]} does not exist yet"))
            continue
        try:
            env = values.environment(WORKER_DATABASE.get(w.name, w.name), _worker_specs(w.name), as_workload=w.name)
        except Exception as exc:
            skipped.append(Skipped(w.name, f"{type(exc).__name__}: {exc}"))
            continue
        env[env_name(w.name, "METRICS_PORT")] = str(s.worker_metrics_port(index))
        command = [sys.executable, *argv]
        programs.append(
            Program(w.name, "workers", command, {**aws_env(), **env}, s.worker_metrics_port(index), "tcp", 60)
        )
    return programs, skipped


def dependency_programs(s: LocalSettings) -> list[Program]:
    from apps.platform.deps import dependency_commands

    return [
        Program(name, "deps", command, {}, port, health, 60)
        for name, (command, port, health) in dependency_commands(s).items()
    ]


def haproxy_program(s: LocalSettings) -> Program:
    from apps.localdeps.process import require_binary

    command = [require_binary("haproxy"), "-W", "-db", "-f", str(s.haproxy_cfg)]
    return Program("haproxy", "alb", command, {}, s.alb_port, "tcp", 40)


def build(s: LocalSettings, store: SecretStore) -> Inventory:
    values = LocalValues(s, store)
    web, web_skipped = web_programs(s, values)
    workers, worker_skipped = worker_programs(s, values)
    programs = [*dependency_programs(s), haproxy_program(s), *web, *workers]
    return Inventory(programs, [*web_skipped, *worker_skipped])
