"""The generated configuration follows stacks/workloads.py: every service present in the checkout gets >= 2
gunicorn instances behind its `/api/<service>/` rule with /readyz checks, haproxy accepts the file (checked
by haproxy itself), supervisord gets every program, and a missing local value is named, not guessed."""

from __future__ import annotations

import configparser
import dataclasses
import importlib.util
import os
import subprocess
from pathlib import Path

import pytest

from apps.localdeps.process import MissingBinaryError, require_binary
from apps.platform import demo, inventory, render, settings
from apps.platform.secrets_store import SecretStore
from apps.runtime.config import Setting, text
from stacks.workloads import READINESS_PATH, WEB_SERVICES, WORKLOADS


@pytest.fixture
def local(tmp_path: Path) -> settings.LocalSettings:
    s = dataclasses.replace(settings.load(), root=tmp_path / "local")
    for name in ("mariadb-writer", "mariadb-replica"):
        (s.data / name / "data").mkdir(parents=True)  # as after `prepare_datadirs`
    return s


def built(s: settings.LocalSettings) -> inventory.Inventory:
    return inventory.build(s, SecretStore(s.secrets_file))


def test_every_present_service_has_two_checked_instances_behind_its_path_rule(local: settings.LocalSettings) -> None:
    inv = built(local)
    present = [w.name for w in WEB_SERVICES if importlib.util.find_spec(f"apps.{w.name}.wsgi")]
    accounted = set(inv.web_services) | {p.name for p in inv.group("workers")} | {s.workload for s in inv.skipped}
    assert accounted == {w.name for w in WORKLOADS}  # every workload runs or is reported with a reason
    assert "catalog" in inv.web_services
    cfg = render.haproxy_cfg(local, inv)
    for service in present:
        if service not in inv.web_services:
            continue
        instances = inv.web_instances(service)
        assert len(instances) >= 2
        assert f"acl api_{service} path_beg /api/{service}/" in cfg
        backend = cfg.split(f"backend svc_{service}\n")[1].split("\n\n")[0]
        assert f"http-check send meth GET uri {READINESS_PATH}" in backend
        for p in instances:
            assert f"server {p.name} 127.0.0.1:{p.port} check" in backend
    ports = [p.port for p in inv.programs if p.port]
    assert len(ports) == len(set(ports)), "two programs on one port"


def test_haproxy_accepts_the_generated_configuration(local: settings.LocalSettings, tmp_path: Path) -> None:
    try:
        haproxy = require_binary("haproxy")
    except MissingBinaryError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    path = tmp_path / "haproxy.cfg"
    path.write_text(render.haproxy_cfg(local, built(local)))
    done = subprocess.run([haproxy, "-c", "-f", str(path)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "broken.cfg"
    broken.write_text(path.read_text().replace("balance leastconn", "balance nonsense", 1))
    assert subprocess.run([haproxy, "-c", "-f", str(broken)], capture_output=True, timeout=30).returncode != 0


def test_supervisord_gets_every_program_with_its_log_and_order(local: settings.LocalSettings) -> None:
    inv = built(local)
    parser = configparser.RawConfigParser()
    parser.read_string(render.supervisord_conf(local, inv))
    programs = {section.split(":", 1)[1] for section in parser.sections() if section.startswith("program:")}
    assert programs == {p.name for p in inv.programs}
    assert {"mariadb-writer", "mariadb-replica", "redis", "moto", "haproxy"} <= programs
    for p in inv.programs:
        section = parser[f"program:{p.name}"]
        assert section["stdout_logfile"] == str(local.logs / f"{p.name}.log")
        assert int(section["priority"]) == render.PRIORITY[p.group]
    grouped = {g: parser[f"group:{g}"]["programs"].split(",") for g in render.PRIORITY if f"group:{g}" in parser}
    assert sorted(name for members in grouped.values() for name in members) == sorted(programs)


def test_a_required_setting_without_local_value_is_named(local: settings.LocalSettings) -> None:
    values = inventory.LocalValues(local, SecretStore(local.secrets_file))
    with pytest.raises(KeyError, match="PEAKSHOP_CART_WIDGET_SECRET"):
        values.environment("cart", (Setting("WIDGET_SECRET", text(1), None),))
    env = values.environment("orders", (Setting("CATALOG_SCHEMA", text(1), None), Setting("QUEUE_URL_ORDERS", text(1))))
    assert env["PEAKSHOP_ORDERS_CATALOG_SCHEMA"] == "peakshop_catalog"
    assert env["PEAKSHOP_ORDERS_QUEUE_URL_ORDERS"].endswith("/peakshop-local-orders")


def test_secrets_are_generated_once_and_private(local: settings.LocalSettings) -> None:
    store = SecretStore(local.secrets_file)
    first = store.get("mysql_app")
    assert SecretStore(local.secrets_file).get("mysql_app") == first
    assert local.secrets_file.stat().st_mode & 0o077 == 0
    assert first not in render.haproxy_cfg(local, built(local))


def test_demo_catalog_is_deterministic() -> None:
    first, again = demo.products(300), demo.products(300)
    assert first == again
    assert len({p.sku for p in first}) == len({(p.name, p.category) for p in first}) == 300
    assert demo.image(first[7]) == demo.image(again[7])
    assert demo.image(first[7]) != demo.image(first[8])
    assert demo.image(first[0])[:3] == b"\xff\xd8\xff"  # JPEG
