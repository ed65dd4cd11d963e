"""MariaDB writer and GTID replica, the local shape of an RDS writer endpoint and a read replica.

The data directory is initialised once and copied, so two servers cost one `mariadb-install-db`. Users are
created on the writer and reach the replica through replication, exactly as on RDS."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql

from apps.localdeps.process import ChildProcess, require_binary
from apps.localdeps.tls import TlsFiles

APP_DB_PREFIX = "peakshop"  # the app user may create and use any database whose name starts with this


@dataclass(frozen=True)
class Credentials:
    admin_password: str
    app_password: str
    repl_password: str

    @classmethod
    def generate(cls) -> Credentials:
        return cls(secrets.token_hex(12), secrets.token_hex(12), secrets.token_hex(12))


def init_datadir(target: Path) -> None:
    """Run mariadb-install-db into `target` (as root, hence --user=root)."""
    install = require_binary("mariadb-install-db")
    require_binary("mariadbd")
    target.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(
        [
            install,
            "--no-defaults",
            f"--datadir={target}",
            "--user=root",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if out.returncode != 0:
        raise RuntimeError(f"mariadb-install-db failed:\n{out.stdout}\n{out.stderr}")


class MariaDB(ChildProcess):
    ready_timeout = 60.0

    def __init__(
        self, workdir: Path, server_id: int, template: Path, replica: bool, tls: TlsFiles | None = None
    ) -> None:
        super().__init__(workdir)
        self.tls = tls
        self.name = "mariadb-replica" if replica else "mariadb-writer"
        self.server_id = server_id
        self.replica = replica
        self.datadir = workdir / "data"
        self.socket = workdir / "mysqld.sock"
        if not self.datadir.exists():
            shutil.copytree(template, self.datadir)

    def command(self) -> list[str]:
        args = [
            require_binary("mariadbd"),
            "--no-defaults",
            "--user=root",
            f"--datadir={self.datadir}",
            f"--socket={self.socket}",
            f"--pid-file={self.workdir / 'mysqld.pid'}",
            "--bind-address=127.0.0.1",
            f"--port={self.port}",
            f"--server-id={self.server_id}",
            "--log-bin=binlog",
            "--log-slave-updates",
            "--binlog-format=ROW",
            "--skip-name-resolve",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
            "--innodb-buffer-pool-size=64M",
            "--innodb-flush-log-at-trx-commit=2",
            "--sync-binlog=0",
            "--performance-schema=OFF",
            "--max-connections=500",
            f"--log-error={self.workdir / 'error.log'}",
        ]
        if self.tls is not None:
            args += [f"--ssl-ca={self.tls.ca}", f"--ssl-cert={self.tls.cert}", f"--ssl-key={self.tls.key}"]
        if self.replica:
            args += ["--read-only=1", "--relay-log=relay", "--skip-slave-start=0"]
        return args

    def root(self, **kw: Any) -> pymysql.Connection:
        """Superuser connection over the unix socket (root exists only @localhost)."""
        return pymysql.connect(unix_socket=str(self.socket), user="root", autocommit=True, **kw)

    def is_ready(self) -> bool:
        self.root(connect_timeout=1).close()
        return True

    def log_tail(self, lines: int = 30) -> str:
        path = self.workdir / "error.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def query(self, sql: str, args: Any = None) -> list[dict[str, Any]]:
        conn = self.root(cursorclass=pymysql.cursors.DictCursor)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                return list(cur.fetchall())
        finally:
            conn.close()


def create_users(writer: MariaDB, creds: Credentials) -> None:
    """Admin (migrations, drills), app (least privilege: peakshop* databases, replication status) and repl."""
    statements: tuple[tuple[str, Any], ...] = (
        ("CREATE USER IF NOT EXISTS 'admin'@'%%' IDENTIFIED BY %s", (creds.admin_password,)),
        ("GRANT ALL PRIVILEGES ON *.* TO 'admin'@'%%' WITH GRANT OPTION", ()),
        ("CREATE USER IF NOT EXISTS 'app'@'%%' IDENTIFIED BY %s", (creds.app_password,)),
        (f"GRANT ALL PRIVILEGES ON `{APP_DB_PREFIX}%%`.* TO 'app'@'%%'", ()),
        ("GRANT SLAVE MONITOR, BINLOG MONITOR ON *.* TO 'app'@'%%'", ()),
        ("CREATE USER IF NOT EXISTS 'repl'@'%%' IDENTIFIED BY %s", (creds.repl_password,)),
        ("GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%%'", ()),
        # like app, but the server refuses it without TLS: proves the TLS setting is really used
        ("CREATE USER IF NOT EXISTS 'app_tls'@'%%' IDENTIFIED BY %s REQUIRE SSL", (creds.app_password,)),
        (f"GRANT ALL PRIVILEGES ON `{APP_DB_PREFIX}%%`.* TO 'app_tls'@'%%'", ()),
        ("GRANT SLAVE MONITOR, BINLOG MONITOR ON *.* TO 'app_tls'@'%%'", ()),
    )
    for stmt, args in statements:
        writer.query(stmt, args)


def start_replication(replica: MariaDB, writer: MariaDB, creds: Credentials, delay_s: int = 0) -> None:
    """Point the replica at the writer using GTID (slave_pos), replaying the writer's whole binlog."""
    replica.query("STOP SLAVE")
    if not replica.query("SELECT @@gtid_slave_pos AS p")[0]["p"]:
        replica.query("SET GLOBAL gtid_slave_pos = ''")
    replica.query(
        "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%s, MASTER_USER='repl', MASTER_PASSWORD=%s, "
        "MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1, MASTER_DELAY=%s",
        (writer.port, creds.repl_password, delay_s),
    )
    replica.query("START SLAVE")


def replica_status(replica: MariaDB) -> dict[str, Any]:
    rows = replica.query("SHOW SLAVE STATUS")
    return rows[0] if rows else {}


def wait_caught_up(replica: MariaDB, writer: MariaDB, timeout: float = 30.0) -> float:
    """Block until the replica has applied everything the writer has binlogged; returns seconds waited."""
    target = writer.query("SELECT @@gtid_binlog_pos AS p")[0]["p"]
    started = time.monotonic()
    if target:
        row = replica.query("SELECT MASTER_GTID_WAIT(%s, %s) AS r", (target, timeout))[0]
        if row["r"] != 0:
            raise TimeoutError(f"replica did not reach GTID {target} within {timeout}s: {replica_status(replica)}")
    return time.monotonic() - started
