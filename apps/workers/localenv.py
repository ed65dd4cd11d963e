"""The checkout platform wired onto the local dependencies (apps.localdeps): migrated catalog, orders and
payments databases, SQS queues with DLQs and redrive policies in moto, and the environment of every
workload, so tests and the checkout benchmark start the real processes (gunicorn, Celery workers, relay)
exactly as a deployment would, only on 127.0.0.1."""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql

from apps.localdeps import LocalDeps
from apps.runtime import tokens
from apps.runtime.config import env_name
from apps.testing import fresh_database, service_env
from apps.workers import queues as sqsq
from apps.workers.config import queue_key, workload
from stacks.workloads import QUEUES

REPO = Path(__file__).resolve().parents[2]


@dataclass
class CheckoutPlatform:
    deps: LocalDeps
    visibility_timeout_s: int = 30
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="peakshop-checkout-")))
    session_seed: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def __post_init__(self) -> None:
        self.catalog_db = fresh_database(self.deps, "catalog")
        self.orders_db = fresh_database(self.deps, "orders")
        self.payments_db = fresh_database(self.deps, "payments")
        self.cart_db = fresh_database(self.deps, "cart")
        prefix = f"peakshop-{secrets.token_hex(3)}"
        sqs = self.sqs()
        self.queues: dict[str, str] = {}
        self.dlqs: dict[str, str] = {}
        for q in QUEUES:
            self.queues[q], self.dlqs[q] = sqsq.create_queue_with_dlq(sqs, f"{prefix}-{q}", self.visibility_timeout_s)
        self.mail_sink = self.workdir / "mail.jsonl"
        self.provider_ledger = self.workdir / "provider.sqlite"
        self.procs: list[subprocess.Popen[bytes]] = []

    # clients ----------------------------------------------------------------------------------------------
    def sqs(self) -> Any:
        return sqsq.sqs_client(self.deps.endpoints.aws_endpoint_url, self.deps.endpoints.aws_region)

    def admin(self, database: str) -> pymysql.Connection:
        e = self.deps.endpoints
        return pymysql.connect(
            host="127.0.0.1",
            port=e.mysql_writer_port,
            user=e.mysql_admin_user,
            password=e.mysql_admin_password,
            database=database,
            autocommit=True,
            cursorclass=pymysql.cursors.DictCursor,
        )

    def sql(self, database: str, statement: str, args: Any = None) -> list[dict[str, Any]]:
        conn = self.admin(database)
        try:
            with conn.cursor() as cur:
                cur.execute(statement, args)
                return list(cur.fetchall())
        finally:
            conn.close()

    def session_token(self, user_id: str) -> str:
        return tokens.issue(tokens.private_key(self.session_seed), user_id, 3600)[0]

    def seed_products(self, count: int, stock: int, price_cents: int = 1000, currency: str = "EUR") -> list[int]:
        conn = self.admin(self.catalog_db)
        try:
            with conn.cursor() as cur:
                tag = secrets.token_hex(3)
                cur.executemany(
                    "INSERT INTO products (sku, name, description, price_cents, currency, stock) "
                    "VALUES (%s, %s, '', %s, %s, %s)",
                    [(f"SKU-{tag}-{i}", f"Product {tag} {i}", price_cents, currency, stock) for i in range(count)],
                )
                cur.execute("SELECT id FROM products WHERE sku LIKE %s ORDER BY id", (f"SKU-{tag}-%",))
                return [int(r["id"]) for r in cur.fetchall()]
        finally:
            conn.close()

    def stock(self, product_id: int) -> int:
        return int(self.sql(self.catalog_db, "SELECT stock FROM products WHERE id = %s", (product_id,))[0]["stock"])

    # environments -----------------------------------------------------------------------------------------
    def _aws(self, name: str) -> dict[str, str]:
        e = self.deps.endpoints
        w = workload(name)
        values = {"AWS_ENDPOINT_URL": e.aws_endpoint_url, "AWS_REGION": e.aws_region}
        values.update({queue_key(q): self.queues[q] for q in sorted(set(w.consumes) | set(w.produces))})
        return values

    def orders_env(self, **overrides: str) -> dict[str, str]:
        public = base64.b64encode(tokens.public_bytes_of(self.session_seed)).decode()
        return service_env(
            self.deps,
            "orders",
            self.orders_db,
            SESSION_PUBLIC_KEY=public,
            ADMIN_TOKEN=self.admin_token,
            CATALOG_SCHEMA=self.catalog_db,
            **{**self._aws("orders"), **overrides},
        )

    def worker_env(self, name: str, **overrides: str) -> dict[str, str]:
        e = self.deps.endpoints
        values: dict[str, str] = {
            **self._aws(name),
            "VISIBILITY_TIMEOUT_S": str(self.visibility_timeout_s),
            "TASK_TIME_LIMIT_S": str(max(1, self.visibility_timeout_s - 1)),
            "WAIT_TIME_S": "1",
            "METRICS_PORT": "0",
            "LOG_LEVEL": "WARNING",
            "RETRY_BACKOFF_S": "0.2",
            "DB_CONNECT_TIMEOUT_S": "1",
        }
        if name in ("orders-worker", "notifications-worker", "privacy-worker", "outbox-relay"):
            values["DB_WRITER_URL"] = e.mysql_url(self.orders_db)
        if name == "orders-worker":
            values.update(
                CATALOG_SCHEMA=self.catalog_db,
                PAYMENTS_DB_URL=e.mysql_url(self.payments_db),
                PAYMENTS_FAKE_LEDGER=str(self.provider_ledger),
            )
        if name == "notifications-worker":
            values["MAIL_SINK"] = str(self.mail_sink)
        if name == "privacy-worker":
            values.update(CART_DB_URL=e.mysql_url(self.cart_db), REDIS_URL=e.redis_url)
        if name == "media-worker":
            values["MEDIA_BUCKET"] = e.buckets["media"]
        values.update(overrides)
        return {env_name(name, k): v for k, v in values.items()}

    # processes --------------------------------------------------------------------------------------------
    def start(self, name: str, **overrides: str) -> subprocess.Popen[bytes]:
        """Start a worker workload (or the relay) as its own process, logging to the work directory."""
        module = ["-m", "apps.workers.relay"] if name == "outbox-relay" else ["-m", "apps.workers", name]
        log = (self.workdir / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            [sys.executable, *module],
            cwd=REPO,
            env={**os.environ, **self.worker_env(name, **overrides)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.procs.append(proc)
        return proc

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.workdir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.procs.clear()

    def close(self) -> None:
        """Stop the processes and remove the work directory (logs, mail sink, provider ledger)."""
        self.stop_all()
        shutil.rmtree(self.workdir, ignore_errors=True)
