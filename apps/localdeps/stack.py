"""The whole local dependency set behind one object: start, endpoints, drills (stop/kill/restart, replica
lag), clean stop. Used by pytest session fixtures and by `python -m apps.localdeps up`."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import boto3

from apps.localdeps.mariadb import (
    Credentials,
    MariaDB,
    create_users,
    init_datadir,
    replica_status,
    start_replication,
    wait_caught_up,
)
from apps.localdeps.moto_server import MotoServer
from apps.localdeps.process import ChildProcess
from apps.localdeps.redis_server import RedisServer
from apps.localdeps.tls import TlsFiles, issue_server_files
from stacks.workloads import BUCKETS, QUEUES

Dependency = Literal["writer", "replica", "redis", "moto"]
AWS_REGION = "eu-west-1"
AWS_KEY = "local"  # moto accepts any credentials; these are not secrets


@dataclass(frozen=True)
class Endpoints:
    """Everything a service needs to reach the local dependencies (printed as JSON by the CLI)."""

    mysql_writer_port: int
    mysql_reader_port: int
    mysql_app_user: str
    mysql_app_password: str
    mysql_admin_user: str
    mysql_admin_password: str
    mysql_tls_ca: str  # CA that signed both servers' certificates; user app_tls (app's password) requires TLS
    redis_url: str
    aws_endpoint_url: str
    aws_region: str
    aws_access_key_id: str
    aws_secret_access_key: str
    queue_urls: dict[str, str]
    buckets: dict[str, str]

    def mysql_url(self, database: str, reader: bool = False, admin: bool = False, tls_user: bool = False) -> str:
        """URL for the app user (or admin); `tls_user` picks app_tls, which the server refuses without TLS."""
        user, pw = (
            (self.mysql_admin_user, self.mysql_admin_password)
            if admin
            else (self.mysql_app_user, self.mysql_app_password)
        )
        if tls_user:
            user = "app_tls"
        port = self.mysql_reader_port if reader else self.mysql_writer_port
        return f"mysql://{user}:{pw}@127.0.0.1:{port}/{database}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class LocalDeps:
    def __init__(self, root: Path | None = None, with_moto: bool = True) -> None:
        self._owns_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="peakshop-deps-")) if root is None else root
        self.creds = Credentials.generate()
        self.with_moto = with_moto
        self.tls: TlsFiles | None = None
        self.writer: MariaDB | None = None
        self.replica: MariaDB | None = None
        self.redis = RedisServer(self.root / "redis")
        self.moto = MotoServer(self.root / "moto") if with_moto else None
        self._endpoints: Endpoints | None = None

    # lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> Endpoints:
        try:
            template = self.root / "mariadb-template"
            init_datadir(template)
            self.tls = issue_server_files(self.root / "tls")
            self.writer = MariaDB(self.root / "writer", 1, template, replica=False, tls=self.tls)
            self.replica = MariaDB(self.root / "replica", 2, template, replica=True, tls=self.tls)
            shutil.rmtree(template)
            for proc in self._all():
                proc.start()
            create_users(self.writer, self.creds)
            start_replication(self.replica, self.writer, self.creds)
            wait_caught_up(self.replica, self.writer)
            queues, buckets = self._create_aws_resources() if self.moto else ({}, {})
        except BaseException:
            self.stop()
            raise
        self._endpoints = Endpoints(
            mysql_writer_port=self.writer.port,
            mysql_reader_port=self.replica.port,
            mysql_app_user="app",
            mysql_app_password=self.creds.app_password,
            mysql_admin_user="admin",
            mysql_admin_password=self.creds.admin_password,
            mysql_tls_ca=str(self.tls.ca),
            redis_url=self.redis.url,
            aws_endpoint_url=self.moto.url if self.moto else "",
            aws_region=AWS_REGION,
            aws_access_key_id=AWS_KEY,
            aws_secret_access_key=AWS_KEY,
            queue_urls=queues,
            buckets=buckets,
        )
        return self._endpoints

    def stop(self) -> None:
        for proc in self._all():
            try:
                proc.stop()
            except Exception:
                proc.kill()
        if self._owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Endpoints:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoints(self) -> Endpoints:
        assert self._endpoints is not None, "LocalDeps not started"
        return self._endpoints

    # drills ----------------------------------------------------------------------------------------------
    def dependency(self, name: Dependency) -> ChildProcess:
        found = {"writer": self.writer, "replica": self.replica, "redis": self.redis, "moto": self.moto}[name]
        assert found is not None, f"{name} not started"
        return found

    def stop_dependency(self, name: Dependency) -> None:
        self.dependency(name).stop()

    def kill_dependency(self, name: Dependency) -> None:
        self.dependency(name).kill()

    def start_dependency(self, name: Dependency) -> None:
        """(Re)start on the same port and data; a restarted replica resumes from its GTID position."""
        self.dependency(name).start()

    def restart_dependency(self, name: Dependency) -> None:
        self.dependency(name).restart()

    def replica_lag(self) -> dict[str, Any]:
        """Seconds_Behind_Master (None when replication is stopped) and whether the GTID positions match."""
        assert self.writer and self.replica
        status = replica_status(self.replica)
        writer_pos = self.writer.query("SELECT @@gtid_binlog_pos AS p")[0]["p"]
        replica_pos = self.replica.query("SELECT @@gtid_slave_pos AS p")[0]["p"]
        return {
            "seconds_behind_master": status.get("Seconds_Behind_Master"),
            "io_running": status.get("Slave_IO_Running"),
            "sql_running": status.get("Slave_SQL_Running"),
            "writer_gtid": writer_pos,
            "replica_gtid": replica_pos,
            "caught_up": writer_pos == replica_pos,
        }

    def pause_replication(self) -> None:
        """Stop applying on the replica (the IO thread keeps fetching): lag grows with every write."""
        assert self.replica
        self.replica.query("STOP SLAVE SQL_THREAD")

    def resume_replication(self, timeout: float = 30.0) -> float:
        assert self.replica and self.writer
        self.replica.query("START SLAVE SQL_THREAD")
        return wait_caught_up(self.replica, self.writer, timeout)

    def set_replica_delay(self, seconds: int) -> None:
        """Delayed replication (MASTER_DELAY): a replica that is consistently `seconds` behind."""
        assert self.replica and self.writer
        start_replication(self.replica, self.writer, self.creds, delay_s=seconds)

    def wait_replica_caught_up(self, timeout: float = 30.0) -> float:
        assert self.replica and self.writer
        return wait_caught_up(self.replica, self.writer, timeout)

    # internals -------------------------------------------------------------------------------------------
    def _all(self) -> list[ChildProcess]:
        return [p for p in (self.writer, self.replica, self.redis, self.moto) if p is not None]

    def _create_aws_resources(self) -> tuple[dict[str, str], dict[str, str]]:
        assert self.moto
        kw: dict[str, Any] = {
            "endpoint_url": self.moto.url,
            "region_name": AWS_REGION,
            "aws_access_key_id": AWS_KEY,
            "aws_secret_access_key": AWS_KEY,
        }
        sqs, s3 = boto3.client("sqs", **kw), boto3.client("s3", **kw)
        queues = {q: sqs.create_queue(QueueName=f"peakshop-local-{q}")["QueueUrl"] for q in QUEUES}
        buckets = {}
        for b in BUCKETS:
            name = f"peakshop-local-{b}"
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": AWS_REGION})
            buckets[b] = name
        # Stands in for CloudFront's origin access: product media is readable at <endpoint>/<bucket>/products/...
        media = buckets["media"]
        public_read = {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{media}/products/*",
        }
        s3.put_bucket_policy(Bucket=media, Policy=json.dumps({"Version": "2012-10-17", "Statement": [public_read]}))
        return queues, buckets


def wait_until(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> bool:
    """Poll `predicate` until true or timeout; for drills that wait on asynchronous effects."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
