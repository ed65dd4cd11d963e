"""The local dependencies behave like the production topology: GTID replication to a read-only replica that
survives crashes, measurable lag, a clear error for a missing binary, and a CLI that prints endpoints."""

from __future__ import annotations

import datetime
import json
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pymysql
import pytest

from apps.localdeps import LocalDeps
from apps.localdeps.process import MissingBinaryError, port_open, require_binary

ROOT = Path(__file__).resolve().parents[3]


def app_conn(deps: LocalDeps, reader: bool) -> pymysql.Connection:
    e = deps.endpoints
    return pymysql.connect(
        host="127.0.0.1",
        port=e.mysql_reader_port if reader else e.mysql_writer_port,
        user=e.mysql_app_user,
        password=e.mysql_app_password,
        autocommit=True,
    )


def test_writes_replicate_and_the_replica_is_read_only(deps: LocalDeps):
    db = f"peakshop_ld_{secrets.token_hex(3)}"
    with app_conn(deps, reader=False) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {db}")
        cur.execute(f"CREATE TABLE {db}.t (id INT PRIMARY KEY, v VARCHAR(20))")
        cur.execute(f"INSERT INTO {db}.t VALUES (1, 'écrit')")
    deps.wait_replica_caught_up()
    with app_conn(deps, reader=True) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT v FROM {db}.t WHERE id = 1")
        assert cur.fetchone() == ("écrit",)
        with pytest.raises(pymysql.err.OperationalError) as err:
            cur.execute(f"INSERT INTO {db}.t VALUES (2, 'nope')")
        assert err.value.args[0] == 1290  # --read-only


def test_crashed_replica_restarts_and_catches_up_by_gtid(healthy_deps: LocalDeps):
    deps = healthy_deps
    db = f"peakshop_ld_{secrets.token_hex(3)}"
    deps.writer.query(f"CREATE DATABASE {db}")  # type: ignore[union-attr]
    deps.writer.query(f"CREATE TABLE {db}.t (id INT PRIMARY KEY)")  # type: ignore[union-attr]
    deps.kill_dependency("replica")
    assert not port_open(deps.endpoints.mysql_reader_port)
    for i in range(5):
        deps.writer.query(f"INSERT INTO {db}.t VALUES (%s)", (i,))  # type: ignore[union-attr]
    deps.start_dependency("replica")
    deps.wait_replica_caught_up()
    assert deps.replica.query(f"SELECT COUNT(*) AS n FROM {db}.t")[0]["n"] == 5  # type: ignore[union-attr]
    status = deps.replica_lag()
    assert status["caught_up"] and status["io_running"] == "Yes" and status["sql_running"] == "Yes"


def test_replica_lag_is_measurable(healthy_deps: LocalDeps):
    deps = healthy_deps
    deps.set_replica_delay(30)  # well beyond the observation window, so "not caught up" cannot race
    db = f"peakshop_ld_{secrets.token_hex(3)}"
    deps.writer.query(f"CREATE DATABASE {db}")  # type: ignore[union-attr]
    deadline, worst = time.monotonic() + 20, 0
    while time.monotonic() < deadline and worst < 2:
        worst = max(worst, deps.replica_lag()["seconds_behind_master"] or 0)
        time.sleep(0.2)
    assert worst >= 2 and not deps.replica_lag()["caught_up"]
    deps.set_replica_delay(0)
    deps.wait_replica_caught_up()
    assert deps.replica_lag()["caught_up"]


def test_paused_replication_reports_unknown_lag(healthy_deps: LocalDeps):
    healthy_deps.pause_replication()
    assert healthy_deps.replica_lag()["seconds_behind_master"] is None
    healthy_deps.writer.query("CREATE DATABASE IF NOT EXISTS peakshop_ld_paused")  # type: ignore[union-attr]
    assert not healthy_deps.replica_lag()["caught_up"]
    assert healthy_deps.resume_replication() < 10
    assert healthy_deps.replica_lag()["caught_up"]


def test_missing_binary_names_the_fix():
    with pytest.raises(MissingBinaryError, match="make setup"):
        require_binary("peakshop-no-such-daemon")


def test_cli_prints_endpoints_and_stops_cleanly():
    proc = subprocess.Popen(
        [sys.executable, "-m", "apps.localdeps", "up", "--no-moto"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("}"):
                break
        endpoints = json.loads("".join(lines))
        ports = [endpoints["mysql_writer_port"], endpoints["mysql_reader_port"]]
        assert all(port_open(p) for p in ports)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert not any(port_open(p) for p in ports)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_moto_launcher_answers_as_moto_does():
    from moto.backends import list_of_moto_modules as moto_modules
    from moto.core.utils import unix_time_millis as moto_clock
    from moto.sqs.models import sqs_backends

    from apps.localdeps.moto_main import (
        is_message_valid_based_on_retention_period,
        list_of_moto_modules,
        unix_time_millis,
    )

    assert abs(unix_time_millis() - moto_clock()) < 50
    when = datetime.datetime(2026, 11, 27, 12, 0, 0)
    assert unix_time_millis(when) == moto_clock(when)
    assert list(list_of_moto_modules()) == list(moto_modules()) and "sqs" in list_of_moto_modules()

    backend = sqs_backends["123456789012"]["eu-west-1"]
    queue_name = backend.create_queue(f"retention-{secrets.token_hex(3)}", MessageRetentionPeriod="60").name
    fresh = backend.send_message(queue_name, "fresh")
    expired = backend.send_message(queue_name, "expired")
    expired.sent_timestamp -= 61_000
    for message, kept in ((fresh, True), (expired, False)):
        assert backend.is_message_valid_based_on_retention_period(queue_name, message) is kept  # moto's own
        assert is_message_valid_based_on_retention_period(backend, queue_name, message) is kept


def test_moto_launcher_sends_as_moto_does(monkeypatch: pytest.MonkeyPatch):
    import moto.sqs.models as sqs_models

    from apps.localdeps import moto_main

    backend = sqs_models.sqs_backends["123456789012"]["eu-west-1"]
    standard = backend.create_queue(f"standard-{secrets.token_hex(3)}").name
    fifo = backend.create_queue(
        f"dedupe-{secrets.token_hex(3)}.fifo", FifoQueue="true", ContentBasedDeduplication="true"
    ).name
    monkeypatch.setattr(sqs_models.Queue, "attributes", property(moto_main.queue_attributes))
    monkeypatch.setattr(sqs_models.SQSBackend, "send_message", moto_main.send_message)

    backend.send_message(standard, "same body")
    backend.send_message(standard, "same body")  # a standard queue keeps both
    backend.send_message(fifo, "same body", group_id="g")
    backend.send_message(fifo, "same body", group_id="g")  # content-based deduplication still drops this one
    for name, count in ((standard, 2), (fifo, 1)):
        queue = backend.get_queue(name)
        assert queue.attributes == moto_main._moto_queue_attributes(queue)  # outside a send: moto's own map
        assert queue.attributes["ApproximateNumberOfMessages"] == count
    assert backend.get_queue(fifo).attributes["ContentBasedDeduplication"] == "true"
    backend.receive_message(fifo, 10, 0, 30)  # in flight now: its group is pending
    fifo_queue = backend.get_queue(fifo)
    assert moto_main.pending_message_groups(fifo_queue) == fifo_queue.pending_message_groups == {"g"}
