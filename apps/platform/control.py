"""Talk to the running platform: supervisord over its XML-RPC unix socket, haproxy over its runtime API,
and each program's own health check (for `status`)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import urllib.request
import xmlrpc.client
from dataclasses import dataclass
from typing import Any

import pymysql
import redis
from supervisor.xmlrpc import SupervisorTransport

from apps.platform.inventory import Program
from apps.platform.settings import VENV_BIN, LocalSettings


class Supervisor:
    def __init__(self, s: LocalSettings) -> None:
        self.s = s
        transport = SupervisorTransport(None, None, f"unix://{s.supervisor_socket}")
        self.rpc: Any = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor

    def running(self) -> bool:
        if not self.s.supervisor_socket.exists():
            return False
        try:
            return bool(self.rpc.getState()["statename"] == "RUNNING")
        except (OSError, xmlrpc.client.Fault, xmlrpc.client.ProtocolError):
            return False

    def start_daemon(self) -> None:
        subprocess.run([str(VENV_BIN / "supervisord"), "-c", str(self.s.supervisor_conf)], check=True)
        deadline = time.monotonic() + 20
        while not self.running():
            if time.monotonic() > deadline:
                raise RuntimeError(f"supervisord did not start; see {self.s.logs / 'supervisord.log'}")
            time.sleep(0.1)

    def update(self) -> None:
        """Apply a changed configuration (like `supervisorctl update`): changed programs are restarted."""
        subprocess.run(
            [str(VENV_BIN / "supervisorctl"), "-c", str(self.s.supervisor_conf), "update"],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start_group(self, group: str) -> None:
        for result in self.rpc.startProcessGroup(group, True):
            if result["status"] not in (80, 60):  # SUCCESS, ALREADY_STARTED
                raise RuntimeError(f"{group}:{result['name']} failed to start: {result['description']}")

    def start(self, group: str, name: str) -> None:
        try:
            self.rpc.startProcess(f"{group}:{name}", True)
        except xmlrpc.client.Fault as exc:
            if "ALREADY_STARTED" not in exc.faultString:
                raise

    def signal(self, group: str, name: str, sig: str) -> None:
        self.rpc.signalProcess(f"{group}:{name}", sig)

    def processes(self) -> list[dict[str, Any]]:
        return list(self.rpc.getAllProcessInfo())

    def shutdown(self, timeout: float = 180) -> None:
        pid = int(self.rpc.getPID())
        self.rpc.shutdown()
        deadline = time.monotonic() + timeout
        while process_alive(pid):
            if time.monotonic() > deadline:
                raise RuntimeError(f"supervisord (pid {pid}) still running after {timeout:.0f}s")
            time.sleep(0.2)


def process_alive(pid: int) -> bool:
    """The pid runs (a zombie, dead but not yet reaped, does not count)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def haproxy_command(s: LocalSettings, command: str) -> str:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        sock.connect(str(s.haproxy_socket))
        sock.sendall(command.encode() + b"\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode()


def haproxy_servers(s: LocalSettings) -> dict[str, dict[str, str]]:
    """backend -> server -> status (UP, DOWN, MAINT, DRAIN, 'UP 1/2'...), from `show stat`."""
    found: dict[str, dict[str, str]] = {}
    lines = haproxy_command(s, "show stat").splitlines()
    if not lines or not lines[0].startswith("# "):
        return found
    header = lines[0][2:].split(",")
    for line in lines[1:]:
        row = dict(zip(header, line.split(","), strict=False))
        if row.get("svname") in (None, "FRONTEND", "BACKEND"):
            continue
        found.setdefault(row["pxname"], {})[row["svname"]] = row["status"]
    return found


MYSQL_ENDPOINTS = {"writer": "mysql-writer", "reader": "mysql-reader"}


def mysql_endpoint_target(s: LocalSettings, endpoint: str) -> int:
    """The database port a stable MySQL endpoint (`writer` or `reader`) currently forwards to."""
    out = haproxy_command(s, f"show servers state {MYSQL_ENDPOINTS[endpoint]}").splitlines()
    header = out[1].lstrip("# ").split()
    row = dict(zip(header, out[2].split(), strict=False))
    return int(row["srv_port"])


def move_mysql_endpoint(s: LocalSettings, endpoint: str, port: int) -> None:
    """Point a stable MySQL endpoint at another database (a failover), like RDS flipping its DNS name;
    connections to the old target are cut so clients reconnect to the new one."""
    backend = MYSQL_ENDPOINTS[endpoint]
    answer = haproxy_command(s, f"set server {backend}/db addr 127.0.0.1 port {port}")
    if "changed" not in answer and "no need to change" not in answer:
        raise RuntimeError(f"haproxy refused to move {endpoint}: {answer.strip()}")
    haproxy_command(s, f"shutdown sessions server {backend}/db")


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: str


def check(s: LocalSettings, p: Program) -> Health:
    try:
        if p.health == "http" and p.group == "web":
            try:
                with urllib.request.urlopen(p.health_url, timeout=2) as resp:
                    return Health(True, f"readyz {resp.status}")
            except urllib.error.HTTPError as exc:
                return Health(False, f"readyz {exc.code}")
        if p.health == "http":
            with urllib.request.urlopen(f"http://127.0.0.1:{p.port}/moto-api/", timeout=2) as resp:
                return Health(resp.status == 200, f"http {resp.status}")
        if p.health == "redis":
            return Health(bool(redis.Redis(port=p.port or 0, socket_timeout=1).ping()), "PING ok")
        if p.health == "mysql":
            return _mysql(s, p)
        if p.health == "tcp":
            with socket.create_connection(("127.0.0.1", p.port or 0), timeout=1):
                return Health(True, f"listening on {p.port}")
    except Exception as exc:
        return Health(False, f"{type(exc).__name__}: {exc}"[:80])
    return Health(True, "")


def _mysql(s: LocalSettings, p: Program) -> Health:
    conn = pymysql.connect(
        unix_socket=str(s.data / p.name / "mysqld.sock"),
        user="root",
        connect_timeout=1,
        cursorclass=pymysql.cursors.DictCursor,
    )
    with contextlib.closing(conn), conn.cursor() as cur:
        cur.execute("SELECT @@read_only AS ro")
        read_only = cur.fetchone()["ro"]
        if p.name.endswith("replica"):
            cur.execute("SHOW SLAVE STATUS")
            row = cur.fetchone() or {}
            lag = row.get("Seconds_Behind_Master")
            running = row.get("Slave_IO_Running") == "Yes" and row.get("Slave_SQL_Running") == "Yes"
            return Health(running, f"replicating, lag {lag}s" if running else "replication stopped")
        return Health(True, "read-only" if read_only else "writable")
