"""`up`, `down` and `status` of the local platform. `up` is idempotent: it (re)generates the configuration,
starts supervisord if needed, applies configuration changes, bootstraps the dependencies (users, replication,
queues with DLQs, buckets), runs the migration command of every service, starts the services and workers,
waits until every target group is healthy behind haproxy, publishes the storefront and loads the demo
catalog if missing."""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from apps.platform import control, demo, deps, inventory, render, storefront_sync
from apps.platform.inventory import Inventory, bucket_name
from apps.platform.secrets_store import SecretStore
from apps.platform.settings import REPO, STOREFRONT_DIR, LocalSettings
from stacks.workloads import WEB_SERVICES


class PlatformError(RuntimeError):
    """`up` could not bring the platform to a healthy state; the message says what and where to look."""


def say(message: str) -> None:
    print(f"platform: {message}", flush=True)


def _write(path: Path, text: str, mode: int = 0o644) -> bool:
    """Write if different; True if the file changed."""
    if path.exists() and path.read_text() == text:
        return False
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.chmod(tmp, mode)
    tmp.replace(path)
    return True


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _check_ports(inv: Inventory, s: LocalSettings) -> None:
    wanted = [p.port for p in inv.programs if p.port] + [
        s.mysql_writer_endpoint,
        s.mysql_reader_endpoint,
        s.haproxy_stats_port,
    ]
    taken = sorted({port for port in wanted if port is not None and not _port_free(port)})
    if taken:
        raise PlatformError(
            f"ports {taken} are in use by another process; stop it, or choose other ports with "
            "PEAKSHOP_LOCAL_ALB_PORT / PEAKSHOP_LOCAL_BASE_PORT"
        )


def _tail(path: Path, lines: int = 15) -> str:
    if not path.exists():
        return "(no log yet)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def migrate(s: LocalSettings, store: SecretStore) -> None:
    """The deploy-time migration command of each service (`python -m apps.runtime.migrate <service>`)."""
    values = inventory.LocalValues(s, store)
    # every service with migrations, running or not: workers use the schemas too (the ledger of payments)
    for service in (w.name for w in WEB_SERVICES):
        if not (REPO / "apps" / service / "migrations").is_dir():
            continue
        env = {
            **os.environ,
            f"PEAKSHOP_{service.upper()}_DB_WRITER_URL": values.mysql_url(service),
            f"PEAKSHOP_{service.upper()}_DB_MIGRATE_URL": values.mysql_url(service, admin=True),
        }
        out = subprocess.run(
            [sys.executable, "-m", "apps.runtime.migrate", service], env=env, capture_output=True, text=True, cwd=REPO
        )
        if out.returncode != 0:
            raise PlatformError(f"migrations of {service} failed:\n{out.stdout}{out.stderr}")
        say(out.stdout.strip())


def wait_healthy(s: LocalSettings, inv: Inventory, timeout: float = 90) -> None:
    """Every web instance UP in its haproxy backend and every worker RUNNING, or an error with log tails."""
    sup = control.Supervisor(s)
    deadline = time.monotonic() + timeout
    while True:
        servers = control.haproxy_servers(s)
        down = [
            p.name
            for p in inv.group("web")
            if not servers.get(f"svc_{p.name.rsplit('-', 1)[0]}", {}).get(p.name, "").startswith("UP")
        ]
        states = {i["name"]: i["statename"] for i in sup.processes()}
        down += [p.name for p in inv.group("workers") if states.get(p.name) != "RUNNING"]
        if not down:
            return
        fatal = [name for name in down if states.get(name) == "FATAL"]
        if fatal or time.monotonic() > deadline:
            down = fatal or down
            tails = "\n".join(
                f"--- {name} ({s.logs / (name + '.log')}) ---\n{_tail(s.logs / (name + '.log'))}" for name in down
            )
            raise PlatformError(f"not healthy after {timeout:.0f}s: {', '.join(down)}\n{tails}")
        time.sleep(0.5)


def up(s: LocalSettings) -> Inventory:
    for folder in (s.root, s.logs, s.run, s.data):
        folder.mkdir(parents=True, exist_ok=True)
    os.chmod(s.root, 0o700)
    with (s.run / "up.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second `make up` (or the test fixture) waits, then reconciles
        return _up(s)


def _up(s: LocalSettings) -> Inventory:
    started = time.monotonic()
    store = SecretStore(s.secrets_file)
    if deps.prepare_datadirs(s):
        say("initialised MariaDB data folders")
    inv = inventory.build(s, store)
    sup = control.Supervisor(s)
    was_running = sup.running()
    if not was_running:
        _check_ports(inv, s)
    conf_changed = _write(s.supervisor_conf, render.supervisord_conf(s, inv), 0o600)
    haproxy_changed = _write(s.haproxy_cfg, render.haproxy_cfg(s, inv), 0o600)
    if not was_running:
        say(f"starting supervisord ({s.supervisor_conf})")
        sup.start_daemon()
    elif conf_changed:
        say("configuration changed: applying (changed programs restart)")
        sup.update()
    sup.start_group("deps")
    sup.start("alb", "haproxy")
    if was_running and haproxy_changed:
        sup.signal("alb", "haproxy", "USR2")  # master-worker reload: no dropped connections
    deps.wait_ready(s)
    deps.bootstrap_database(s, store)
    deps.bootstrap_aws(s)
    migrate(s, store)
    deps.wait_replica(s)
    for group in ("web", "workers"):
        if inv.group(group):  # type: ignore[arg-type]
            sup.start_group(group)
    wait_healthy(s, inv)
    _sqs, s3 = deps.aws_clients(s)
    published = storefront_sync.sync(s3, bucket_name("storefront"), STOREFRONT_DIR)
    if published:
        say(f"published {published} storefront files")
    if "catalog" in inv.web_services:
        loaded = demo.ensure(s.url, store.get("catalog_admin_token"), s3, bucket_name("media"), s.demo_products)
        if loaded:
            say(f"loaded the demo catalog ({loaded} products with images)")
    for skip in inv.skipped:
        say(f"not running {skip.workload}: {skip.reason}")
    say(f"up in {time.monotonic() - started:.1f}s; logs in {s.logs}; `make status` for health")
    print(f"\n  Peakshop is running at {s.url}/\n", flush=True)
    return inv


def down(s: LocalSettings, purge: bool = False) -> None:
    sup = control.Supervisor(s)
    if sup.running():
        say("stopping every program (workers, services, haproxy, dependencies) and supervisord")
        sup.shutdown()
    else:
        say("not running")
    if purge:
        shutil.rmtree(s.data, ignore_errors=True)
        s.secrets_file.unlink(missing_ok=True)
        say(f"removed {s.data} and the generated secrets")


@dataclass(frozen=True)
class Row:
    name: str
    state: str
    pid: int
    uptime: str
    healthy: bool
    detail: str


def status_rows(s: LocalSettings) -> list[Row] | None:
    sup = control.Supervisor(s)
    if not sup.running():
        return None
    inv = inventory.build(s, SecretStore(s.secrets_file))
    by_name = {p.name: p for p in inv.programs}
    try:
        servers = control.haproxy_servers(s)
    except OSError:
        servers = {}
    rows = []
    for info in sup.processes():
        program = by_name.get(info["name"])
        running = info["statename"] == "RUNNING"
        health = control.check(s, program) if running and program else control.Health(False, info["spawnerr"])
        detail = health.detail
        if program and program.group == "web":
            lb = servers.get(f"svc_{program.name.rsplit('-', 1)[0]}", {}).get(program.name, "absent")
            detail = f"{detail}; haproxy {lb}"
            health = control.Health(health.ok and lb.startswith("UP"), detail)
        uptime = info["description"].split("uptime ")[-1] if running else "-"
        rows.append(Row(f"{info['group']}:{info['name']}", info["statename"], info["pid"], uptime, health.ok, detail))
    return rows


def status(s: LocalSettings) -> int:
    rows = status_rows(s)
    if rows is None:
        print("platform is down (start it with `make up`)")
        return 3
    print(f"{'PROGRAM':28} {'STATE':9} {'PID':>7} {'UPTIME':>9}  HEALTH")
    for r in rows:
        mark = "ok " if r.healthy else "BAD"
        print(f"{r.name:28} {r.state:9} {r.pid:>7} {r.uptime:>9}  {mark} {r.detail}")
    for skip in inventory.build(s, SecretStore(s.secrets_file)).skipped:
        print(f"{'(' + skip.workload + ')':28} {'ABSENT':9} {'-':>7} {'-':>9}  --  {skip.reason}")
    print(f"\nstorefront {s.url}/  haproxy stats http://127.0.0.1:{s.haproxy_stats_port}/  logs {s.logs}")
    return 0 if all(r.healthy for r in rows) else 1
