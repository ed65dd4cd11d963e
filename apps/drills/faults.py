"""The faults of the game day, each against the running local platform: supervisord (XML-RPC) stops,
kills and starts programs; haproxy's runtime API drains servers and moves the MySQL endpoints (as RDS moves
its endpoint DNS names); the MariaDB root sockets promote and re-point replicas with GTID. Each fault is
`inject(window_s)` and returns timestamps (monotonic) of when it started and when it was restored."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import xmlrpc.client
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import psutil

from apps.localdeps.mariadb import MariaDB, start_replication, wait_caught_up
from apps.localdeps.process import require_binary, wait_for
from apps.platform import control, deps
from apps.platform.inventory import build
from apps.platform.secrets_store import SecretStore
from apps.platform.settings import LocalSettings

WORKERS = ("orders-worker", "notifications-worker", "outbox-relay")


@dataclass
class Window:
    started: float = 0.0
    restored: float = 0.0
    notes: str = ""


class Programs:
    """Crash, stop and start supervisord programs over its XML-RPC proxy (`supervisor` namespace)."""

    def __init__(self, rpc: Any) -> None:
        self.rpc = rpc

    def state(self, program: str) -> str:
        return str(self.rpc.getProcessInfo(program)["statename"])

    def wait_state(self, program: str, wanted: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while (now := self.state(program)) != wanted:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{program} is {now}, not {wanted}, after {timeout:.0f}s")
            time.sleep(0.2)

    def crash(self, program: str) -> None:
        """SIGKILL the program and everything it started, and keep it down (a lost instance)."""
        _kill_tree(self.rpc.getProcessInfo(program)["pid"])
        self.keep_stopped(program)

    def keep_stopped(self, program: str, timeout: float = 60) -> None:
        """Stop the program until supervisord reports STOPPED. Its autorestart may respawn it right after the
        SIGKILL; a stop landing between the reap and the respawn is refused (NOT_RUNNING), and a SIGTERM landing
        between fork and exec is lost (the child still has supervisord's handlers), leaving it STOPPING until
        stopwaitsecs: so loop, and SIGKILL whatever is STOPPING (a crash is what this fault is)."""
        deadline = time.monotonic() + timeout
        while (info := self.rpc.getProcessInfo(program))["statename"] not in ("STOPPED", "FATAL"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{program} is {info['statename']}, not STOPPED, after {timeout:.0f}s")
            if info["statename"] in ("STARTING", "RUNNING", "BACKOFF"):
                with _suppress():
                    self.rpc.stopProcess(program, False)
            elif info["statename"] == "STOPPING":
                _kill_tree(info["pid"])
            time.sleep(0.05)

    def kill_and_let_restart(self, program: str) -> None:
        """SIGKILL (with children); supervisord's autorestart brings it back, as Kubernetes would."""
        info = self.rpc.getProcessInfo(program)
        old = info["pid"]
        _kill_tree(old)
        deadline = time.monotonic() + 60
        while True:
            info = self.rpc.getProcessInfo(program)
            if info["statename"] == "RUNNING" and info["pid"] != old:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{program} did not come back after SIGKILL: {info['statename']}")
            time.sleep(0.2)

    def start(self, program: str) -> None:
        with _suppress():
            self.rpc.startProcess(program, False)
        self.wait_state(program, "RUNNING")


class Platform(Programs):
    """Handles on the running platform the faults act on."""

    def __init__(self, s: LocalSettings) -> None:
        self.s = s
        self.sup = control.Supervisor(s)
        if not self.sup.running():
            raise SystemExit("drill: the local platform is not running; start it with `make up`")
        super().__init__(self.sup.rpc)
        self.store = SecretStore(s.secrets_file)
        self.inventory = build(s, self.store)

    def start_db(self, name: str) -> MariaDB:
        """Start a MariaDB program and wait until it accepts connections (RUNNING comes earlier)."""
        self.start(f"deps:{name}")
        db = self.db(name)
        wait_for(db.is_ready, name, 60)
        return db

    # ---------------------------------------------------------------------------------------------- haproxy
    def server_status(self, service: str, name: str) -> str:
        return control.haproxy_servers(self.s).get(f"svc_{service}", {}).get(name, "?")

    def wait_server(self, service: str, name: str, prefix: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not (now := self.server_status(service, name)).startswith(prefix):
            if time.monotonic() > deadline:
                raise RuntimeError(f"haproxy svc_{service}/{name} is {now}, not {prefix}, after {timeout:.0f}s")
            time.sleep(0.2)

    def web_instances(self) -> list[tuple[str, str]]:
        return [(p.name.rsplit("-", 1)[0], p.name) for p in self.inventory.group("web")]

    # --------------------------------------------------------------------------------------------- databases
    def db(self, name: str) -> MariaDB:
        return deps._mariadb(self.s, replica=name == deps.REPLICA)

    def port_of(self, name: str) -> int:
        return self.s.mysql_replica_port if name == deps.REPLICA else self.s.mysql_writer_port


def _kill_tree(pid: int) -> None:
    """SIGKILL a process's descendants, then the process (0: nothing to kill)."""
    if not pid:
        return
    pids = []
    with _suppress():
        pids = [c.pid for c in psutil.Process(pid).children(recursive=True)]
    for each in [*pids, pid]:
        with _suppress():
            os.kill(each, signal.SIGKILL)


def _suppress() -> contextlib.suppress:
    return contextlib.suppress(ProcessLookupError, psutil.Error, xmlrpc.client.Fault, OSError)


# ------------------------------------------------------------------------------------------------- the faults
def rolling_restart(p: Platform, window_s: float, w: Window) -> None:
    """Every web instance restarted, one at a time per service (services in parallel, as Deployments roll
    side by side): drain in haproxy (deregistration), stop (gunicorn drains), start, wait until UP."""
    w.started = time.monotonic()
    rounds: dict[str, list[tuple[str, str]]] = {}
    for service, name in p.web_instances():
        rounds.setdefault(name.rsplit("-", 1)[1], []).append((service, name))
    for members in rounds.values():
        with ThreadPoolExecutor(max_workers=len(members)) as pool:
            list(pool.map(lambda m: _restart_instance(p, *m), members))
    w.restored = time.monotonic()


def _restart_instance(p: Platform, service: str, name: str) -> None:
    rpc = control.Supervisor(p.s).rpc  # one XML-RPC connection per thread
    control.haproxy_command(p.s, f"set server svc_{service}/{name} state drain")
    time.sleep(1.0)  # in-flight requests finish; new ones already go to the other instance
    rpc.stopProcess(f"web:{name}", True)
    rpc.startProcess(f"web:{name}", True)
    control.haproxy_command(p.s, f"set server svc_{service}/{name} state ready")
    p.wait_server(service, name, "UP")


def instance_kill(p: Platform, window_s: float, w: Window) -> None:
    """SIGKILL one instance of each service; supervisord restarts it; wait until haproxy has it UP again."""
    w.started = time.monotonic()
    killed = [(service, name) for service, name in p.web_instances() if name.endswith("-1")]
    for _service, name in killed:
        p.kill_and_let_restart(f"web:{name}")
    for service, name in killed:
        p.wait_server(service, name, "UP")
    w.restored = time.monotonic()


def writer_failover(p: Platform, window_s: float, w: Window) -> None:
    """Kill the writer, promote the replica, move both endpoints to it; after the window rebuild the old
    writer as a replica of the new one (GTID). `restore_topology` later switches the roles back."""
    old, new = deps.WRITER, deps.REPLICA
    w.started = time.monotonic()
    p.crash(f"deps:{old}")
    detect_down(p.port_of(old))
    w.notes = f"writer failure detected after {time.monotonic() - w.started:.1f}s; "
    promoted = p.db(new)
    promoted.query("STOP SLAVE")
    promoted.query("RESET SLAVE ALL")
    promoted.query("SET GLOBAL read_only = 0")
    control.move_mysql_endpoint(p.s, "writer", p.port_of(new))
    control.move_mysql_endpoint(p.s, "reader", p.port_of(new))
    w.notes += f"{new} promoted and endpoints moved after {time.monotonic() - w.started:.1f}s"
    time.sleep(window_s)
    rebuilt = p.start_db(old)
    rebuild_replica(p, rebuilt, promoted)
    control.move_mysql_endpoint(p.s, "reader", p.port_of(old))
    w.restored = time.monotonic()


DETECT_FAILURES = 3  # consecutive failed health checks before failing over (RDS and haproxy work the same way)
DETECT_INTERVAL_S = 1.0


def detect_down(port: int) -> None:
    """Fail over only once the writer has failed DETECT_FAILURES health checks in a row, as a real failover
    controller does (it never acts on the single lost connection a blip causes)."""
    failures = 0
    while failures < DETECT_FAILURES:
        time.sleep(DETECT_INTERVAL_S)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=DETECT_INTERVAL_S).close()
            failures = 0
        except OSError:
            failures += 1


def rebuild_replica(p: Platform, target: MariaDB, source: MariaDB) -> None:
    """A new replica from a consistent copy of the writer (as RDS builds one from a snapshot): the old
    writer's own history, which may hold transactions the promoted replica never received, is discarded."""
    target.query("SET GLOBAL read_only = 1")
    target.query("STOP SLAVE")
    target.query("RESET SLAVE ALL")
    target.query("RESET MASTER")
    names = [r["name"] for r in source.query("SELECT schema_name AS name FROM information_schema.schemata")]
    schemas = [n for n in names if n.startswith("peakshop_")]
    dump = subprocess.run(
        [
            require_binary("mariadb-dump"),
            f"--socket={source.socket}",
            "--user=root",
            "--single-transaction",
            "--master-data=1",
            "--gtid",
            "--triggers",
            "--routines",
            "--add-drop-database",
            "--databases",
            *schemas,
        ],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(
        [
            require_binary("mariadb"),
            f"--socket={target.socket}",
            "--user=root",
            "--init-command=SET SESSION sql_log_bin=0",
        ],
        input=dump,
        check=True,
        capture_output=True,
    )
    start_replication(target, source, deps.credentials(p.store))
    wait_caught_up(target, source, 60)


def restore_topology(p: Platform) -> None:
    """Controlled switchover back to the configured roles (writer on mariadb-writer), so `make up` and the
    next scenario find the platform as configured. Run without load."""
    writer_port = control.mysql_endpoint_target(p.s, "writer")
    if writer_port == p.s.mysql_writer_port:
        return
    current, original = p.db(deps.REPLICA), p.db(deps.WRITER)
    status = original.query("SHOW SLAVE STATUS")
    if not status or status[0].get("Master_Port") != current.port or status[0].get("Slave_SQL_Running") != "Yes":
        rebuild_replica(p, original, current)  # the failover did not leave it replicating: rebuild first
    current.query("SET GLOBAL read_only = 1")
    wait_caught_up(original, current, 60)
    original.query("STOP SLAVE")
    original.query("RESET SLAVE ALL")
    original.query("SET GLOBAL read_only = 0")
    control.move_mysql_endpoint(p.s, "writer", p.s.mysql_writer_port)
    current.query("SET GLOBAL gtid_slave_pos = @@gtid_binlog_pos")
    start_replication(current, original, deps.credentials(p.store))
    wait_caught_up(current, original, 60)
    control.move_mysql_endpoint(p.s, "reader", p.s.mysql_replica_port)


def reader_loss(p: Platform, window_s: float, w: Window) -> None:
    w.started = time.monotonic()
    p.crash(f"deps:{deps.REPLICA}")
    time.sleep(window_s)
    wait_caught_up(p.start_db(deps.REPLICA), p.db(deps.WRITER), 60)
    w.restored = time.monotonic()


def cache_loss(p: Platform, window_s: float, w: Window) -> None:
    w.started = time.monotonic()
    p.crash("deps:redis")
    time.sleep(window_s)
    p.start("deps:redis")
    w.restored = time.monotonic()


def queue_outage(p: Platform, window_s: float, w: Window) -> None:
    """SQS unreachable: moto is frozen (SIGSTOP), so calls time out as in an outage; it keeps its queues
    (a restarted moto would start empty, which is not what an SQS outage is)."""
    w.started = time.monotonic()
    p.rpc.signalProcess("deps:moto", "STOP")
    time.sleep(window_s)
    p.rpc.signalProcess("deps:moto", "CONT")
    w.restored = time.monotonic()


def worker_crash(p: Platform, window_s: float, w: Window) -> None:
    """SIGKILL the Celery workers and the relay mid-task (twice over the window); supervisord restarts them."""
    w.started = time.monotonic()
    for round_ in range(2):
        for worker in WORKERS:
            p.kill_and_let_restart(f"workers:{worker}")
        if round_ == 0:
            time.sleep(max(1.0, window_s / 2))
    w.restored = time.monotonic()


SCENARIOS: dict[str, Callable[[Platform, float, Window], None]] = {
    "rolling-restart": rolling_restart,
    "instance-kill": instance_kill,
    "writer-failover": writer_failover,
    "reader-loss": reader_loss,
    "cache-loss": cache_loss,
    "queue-outage": queue_outage,
    "worker-crash": worker_crash,
}
