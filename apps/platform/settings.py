"""Local platform settings: the one place for ports, instance counts and folders. Everything else (which
services, queues and buckets exist, health paths, draining) comes from stacks/workloads.py."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
STOREFRONT_DIR = REPO / "storefront"
REPORTS_DIR = REPO / "reports"


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name}: expected an integer, got {raw!r}") from None


@dataclass(frozen=True)
class LocalSettings:
    root: Path  # runtime folder (gitignored): configs, data, logs, sockets, generated secrets
    alb_port: int  # haproxy as the ALB; the storefront URL
    base_port: int  # every other local port is base_port + a fixed offset (see the properties)
    instances_per_service: int  # gunicorn instances behind each ALB target group
    gunicorn_workers: int  # processes per gunicorn instance
    gunicorn_threads: int
    demo_products: int

    # paths ---------------------------------------------------------------------------------------------------
    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def supervisor_conf(self) -> Path:
        return self.root / "supervisord.conf"

    @property
    def supervisor_socket(self) -> Path:
        return self.run / "supervisor.sock"

    @property
    def haproxy_cfg(self) -> Path:
        return self.root / "haproxy.cfg"

    @property
    def haproxy_socket(self) -> Path:
        """haproxy runtime API (admin level): drills move the MySQL endpoints with `set server ... addr`."""
        return self.run / "haproxy.sock"

    @property
    def secrets_file(self) -> Path:
        return self.root / "secrets.json"

    # ports ---------------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.alb_port}"

    @property
    def mysql_writer_endpoint(self) -> int:
        """Stable writer endpoint (haproxy TCP frontend), like the RDS cluster endpoint."""
        return self.base_port + 6

    @property
    def mysql_reader_endpoint(self) -> int:
        return self.base_port + 7

    @property
    def mysql_writer_port(self) -> int:
        return self.base_port + 16

    @property
    def mysql_replica_port(self) -> int:
        return self.base_port + 17

    @property
    def redis_port(self) -> int:
        return self.base_port + 20

    @property
    def moto_port(self) -> int:
        return self.base_port + 21

    @property
    def haproxy_stats_port(self) -> int:
        return self.base_port + 4

    def instance_port(self, service_index: int, instance: int) -> int:
        return self.base_port + 100 + service_index * 10 + instance

    def worker_metrics_port(self, worker_index: int) -> int:
        return self.base_port + 200 + worker_index

    @property
    def moto_url(self) -> str:
        return f"http://127.0.0.1:{self.moto_port}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"


def load() -> LocalSettings:
    """Defaults suit a 2-core machine; PEAKSHOP_LOCAL_* variables override them."""
    return LocalSettings(
        root=Path(os.environ.get("PEAKSHOP_LOCAL_ROOT", REPO / ".local")).resolve(),
        alb_port=_int_env("PEAKSHOP_LOCAL_ALB_PORT", 8080),
        base_port=_int_env("PEAKSHOP_LOCAL_BASE_PORT", 17300),
        instances_per_service=max(2, _int_env("PEAKSHOP_LOCAL_INSTANCES", 2)),
        gunicorn_workers=_int_env("PEAKSHOP_LOCAL_GUNICORN_WORKERS", 1),
        gunicorn_threads=_int_env("PEAKSHOP_LOCAL_GUNICORN_THREADS", 8),
        demo_products=_int_env("PEAKSHOP_LOCAL_DEMO_PRODUCTS", 300),
    )
