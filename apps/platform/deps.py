"""The real dependencies as supervisor programs: the command lines come from apps/localdeps (one definition
of how MariaDB, Redis and moto are run), on fixed local ports and persistent data folders, so that each can
be stopped, killed and restarted on its own (`supervisorctl stop mariadb-writer`) and keeps its data."""

from __future__ import annotations

import json
import shutil
from typing import Any

import boto3

from apps.localdeps.mariadb import Credentials, MariaDB, create_users, init_datadir, start_replication, wait_caught_up
from apps.localdeps.moto_server import MotoServer
from apps.localdeps.process import wait_for
from apps.localdeps.redis_server import RedisServer
from apps.localdeps.stack import AWS_KEY, AWS_REGION
from apps.platform.inventory import SQS_ACCOUNT, bucket_name, queue_name
from apps.platform.secrets_store import SecretStore
from apps.platform.settings import LocalSettings
from stacks.workloads import BUCKETS, QUEUES

WRITER, REPLICA = "mariadb-writer", "mariadb-replica"


def _mariadb(s: LocalSettings, replica: bool) -> MariaDB:
    """A localdeps MariaDB on the fixed port; the data folder must exist (see `prepare_datadirs`)."""
    name = REPLICA if replica else WRITER
    db = MariaDB(s.data / name, 2 if replica else 1, s.data / "mariadb-template", replica)
    db.port = s.mysql_replica_port if replica else s.mysql_writer_port
    return db


def prepare_datadirs(s: LocalSettings) -> bool:
    """Initialise both data folders once (one mariadb-install-db, copied); True if this was the first time."""
    if (s.data / WRITER / "data").exists() and (s.data / REPLICA / "data").exists():
        return False
    for name in (WRITER, REPLICA):
        shutil.rmtree(s.data / name, ignore_errors=True)
    template = s.data / "mariadb-template"
    shutil.rmtree(template, ignore_errors=True)
    init_datadir(template)
    _mariadb(s, replica=False)
    _mariadb(s, replica=True)
    shutil.rmtree(template)
    return True


def dependency_commands(s: LocalSettings) -> dict[str, tuple[list[str], int, Any]]:
    """name -> (command, port, health kind)."""
    redis = RedisServer(s.data / "redis")
    redis.port = s.redis_port
    moto = MotoServer(s.data / "moto")
    moto.port = s.moto_port
    commands: dict[str, tuple[list[str], int, Any]] = {}
    if (s.data / WRITER / "data").exists():
        for replica in (False, True):
            db = _mariadb(s, replica)
            commands[db.name] = (db.command(), db.port, "mysql")
    commands["redis"] = (redis.command(), redis.port, "redis")
    commands["moto"] = (moto.command(), moto.port, "http")
    return commands


def credentials(store: SecretStore) -> Credentials:
    return Credentials(store.get("mysql_admin"), store.get("mysql_app"), store.get("mysql_repl"))


def wait_ready(s: LocalSettings, timeout: float = 60) -> None:
    writer, replica = _mariadb(s, False), _mariadb(s, True)
    redis = RedisServer(s.data / "redis")
    redis.port = s.redis_port
    moto = MotoServer(s.data / "moto")
    moto.port = s.moto_port
    for dep in (writer, replica, redis, moto):
        wait_for(dep.is_ready, dep.name, timeout)


def bootstrap_database(s: LocalSettings, store: SecretStore) -> None:
    """Users on the writer (they replicate), GTID replication on the replica; both idempotent."""
    writer, replica = _mariadb(s, False), _mariadb(s, True)
    creds = credentials(store)
    create_users(writer, creds)
    status = replica.query("SHOW SLAVE STATUS")
    running = (
        bool(status) and status[0].get("Slave_IO_Running") == "Yes" and status[0].get("Slave_SQL_Running") == "Yes"
    )
    if not running or status[0].get("Master_Port") != writer.port:
        start_replication(replica, writer, creds)
    wait_caught_up(replica, writer)


def wait_replica(s: LocalSettings, timeout: float = 30) -> None:
    wait_caught_up(_mariadb(s, True), _mariadb(s, False), timeout)


def aws_clients(s: LocalSettings) -> tuple[Any, Any]:
    kw: dict[str, Any] = {
        "endpoint_url": s.moto_url,
        "region_name": AWS_REGION,
        "aws_access_key_id": AWS_KEY,
        "aws_secret_access_key": AWS_KEY,
    }
    return boto3.client("sqs", **kw), boto3.client("s3", **kw)


def bootstrap_aws(s: LocalSettings) -> dict[str, str]:
    """Queues (each with its DLQ and redrive policy, as peakshop_constructs/queue.py) and buckets in moto;
    idempotent. Moto keeps state in memory, so this runs on every `up`. Returns queue name -> URL."""
    from apps.workers.queues import create_queue_with_dlq

    sqs, s3 = aws_clients(s)
    urls = {}
    for q in QUEUES:
        url, _dlq = create_queue_with_dlq(sqs, queue_name(q))
        expected = f"{s.moto_url}/{SQS_ACCOUNT}/{queue_name(q)}"
        if url != expected:
            raise RuntimeError(f"moto returned queue URL {url}, the services were configured with {expected}")
        urls[q] = url
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for b in BUCKETS:
        if bucket_name(b) not in existing:
            s3.create_bucket(Bucket=bucket_name(b), CreateBucketConfiguration={"LocationConstraint": AWS_REGION})
    # Read access for the CDN paths only (CloudFront's origin access in AWS): product media and the storefront.
    for bucket, prefixes in (("media", ("products/", "thumbnails/")), ("storefront", ("",))):
        name = bucket_name(bucket)
        statement = {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": [f"arn:aws:s3:::{name}/{prefix}*" for prefix in prefixes],
        }
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    return urls
