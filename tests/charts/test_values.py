"""The chart's values and rendered settings agree with their sources of truth: stacks/workloads.py (names,
kinds, queues, port, probe paths, shutdown timings), stacks/config.py (subnets) and each service's own
settings, entry point and OpenAPI document in apps/."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path
from typing import Any

import pytest
import yaml

from apps.runtime.config import COMMON_SETTINGS, Setting
from stacks import workloads as wl
from stacks.config import STAGE_NAMES, load_config
from tests.charts.conftest import Docs, of_kind
from tests.charts.render import ROOT, UMBRELLA, Target

VALUES = yaml.safe_load((UMBRELLA / "values.yaml").read_text())
BY_NAME = {w.name: w for w in wl.WORKLOADS}


def package(name: str) -> str:
    return name.replace("-", "_")


def test_values_list_exactly_the_workloads_with_their_kinds_and_queues() -> None:
    values = VALUES["workloads"]
    assert list(values) == [w.name for w in wl.WORKLOADS]
    for name, w in BY_NAME.items():
        v = values[name]
        assert v["kind"] == w.kind, name
        assert tuple(v.get("produces", ())) == w.produces, name
        assert ((v["consumes"],) if "consumes" in v else ()) == w.consumes, name
        assert bool(v.get("database")) == ("db" in w.secrets), f"{name}: a database iff it reads the db secret"
        assert {s["secret"] for s in v.get("secretEnv", {}).values()} <= set(w.secrets), name
        assert bool(v.get("redis")) == w.redis, f"{name}: REDIS_URL iff its role may connect to Redis"


def test_port_paths_and_shutdown_timings_are_the_workload_constants() -> None:
    assert VALUES["namespace"] == wl.NAMESPACE
    assert VALUES["app"]["port"] == wl.APP_PORT
    assert VALUES["app"]["readinessPath"] == wl.READINESS_PATH
    assert VALUES["app"]["livenessPath"] == wl.LIVENESS_PATH
    assert VALUES["shutdown"]["preStopSleepSeconds"] == wl.PRESTOP_SLEEP_S
    assert VALUES["shutdown"]["terminationGracePeriodSeconds"] == wl.TERMINATION_GRACE_PERIOD_S
    gunicorn = importlib.import_module("apps.runtime.gunicorn_conf")
    assert gunicorn.bind.rsplit(":", 1)[1] == str(wl.APP_PORT)


@pytest.mark.parametrize("stage", STAGE_NAMES)
def test_stage_networks_are_the_configured_subnets(stage: str) -> None:
    values = yaml.safe_load((UMBRELLA / f"values-{stage}.yaml").read_text())
    assert values["stage"] == stage
    config = load_config({}).stages[stage]
    for role in ("primary", "secondary"):
        region = config.region(role)
        assert values["network"][role] == {"vpc": region.vpc_cidr, **region.subnet_cidrs()}, f"{stage}/{role}"


def known_settings(name: str) -> tuple[Setting, ...]:
    """The settings the workload's process validates at start (apps/), by kind."""
    if BY_NAME[name].kind == "web":
        if name == "payments":
            return (*COMMON_SETTINGS, *importlib.import_module("apps.payments.config").PROVIDER_SETTINGS)
        return (*COMMON_SETTINGS, *importlib.import_module(f"apps.{name}.app").SETTINGS)
    config = importlib.import_module("apps.workers.config")
    base = (*config.AWS_SETTINGS, *config.BROKER_SETTINGS, *config.queue_settings(name))
    if name == "outbox-relay":
        return (*base, *importlib.import_module("apps.workers.relay").SETTINGS)
    return (*base, *importlib.import_module("apps.workers.__main__").EXTRA_SETTINGS[name])


def chart_settings(docs: Docs, name: str) -> set[str]:
    """PEAKSHOP_<WORKLOAD>_* keys the chart gives the workload: its ConfigMap and its synced Secret."""
    prefix = f"PEAKSHOP_{name.upper().replace('-', '_')}_"
    keys = set(of_kind(docs, "ConfigMap")[name]["data"])
    secret = of_kind(docs, "ExternalSecret").get(name)
    if secret:
        keys |= set(secret["spec"]["target"]["template"]["data"])
    assert all(
        k.startswith(prefix) or k in {"GUNICORN_WORKERS", "GUNICORN_THREADS", "PROMETHEUS_MULTIPROC_DIR"} for k in keys
    )
    return {k.removeprefix(prefix) for k in keys if k.startswith(prefix)}


@pytest.fixture(scope="module")
def dev(rendered: dict[Target, Docs]) -> Docs:
    return rendered[Target("dev")]


@pytest.mark.parametrize("name", [w.name for w in wl.WORKLOADS])
def test_chart_settings_are_the_services_settings(dev: Docs, name: str) -> None:
    """Every variable the chart sets is one the service reads, and every required one is set."""
    specs = known_settings(name)
    given = chart_settings(dev, name)
    known = {s.key for s in specs}
    required = {s.key for s in specs if s.default is None}
    assert given <= known, f"{name}: the service does not read {sorted(given - known)}"
    assert required <= given, f"{name}: the chart does not set {sorted(required - given)}"
    secret_keys = set()
    secret = of_kind(dev, "ExternalSecret").get(name)
    if secret:
        prefix = f"PEAKSHOP_{name.upper().replace('-', '_')}_"
        secret_keys = {k.removeprefix(prefix) for k in secret["spec"]["target"]["template"]["data"]}
    config = set(of_kind(dev, "ConfigMap")[name]["data"])
    for spec in specs:
        if spec.secret and spec.key in given:
            assert spec.key in secret_keys, f"{name}: {spec.key} is secret and must come from Secrets Manager"
            assert not any(k.endswith(f"_{spec.key}") for k in config), f"{name}: {spec.key} in a ConfigMap"


def assigned_names(module: str) -> set[str]:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin, f"no module {module}"
    tree = ast.parse(Path(spec.origin).read_text())
    names = {
        t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)
    }
    return names | {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


# Web services whose app has landed in apps/<package>/app.py (payments' app is still being written).
LANDED = [w.name for w in wl.WORKLOADS if w.kind == "worker" or (ROOT / "apps" / package(w.name) / "app.py").is_file()]


@pytest.mark.parametrize("name", LANDED)
def test_entry_points_exist(dev: Docs, name: str) -> None:
    """The command the chart runs names a real module (read, not imported: importing builds the app)."""
    app = of_kind(dev, "Deployment")[name]["spec"]["template"]["spec"]["containers"][0]
    args: list[str] = app["args"]
    if args[0] == "gunicorn":
        module, attribute = args[-1].split(":")
        assert args[1:3] == ["--config", "apps/runtime/gunicorn_conf.py"]
        assert attribute in assigned_names(module), f"{name}: {args[-1]}"
    else:
        assert args[:2] == ["python", "-m"], name
        assert "main" in assigned_names(args[2] if args[2] != "apps.workers" else "apps.workers.__main__"), name
        if args[2] == "apps.workers":
            runner = importlib.import_module("apps.workers.__main__")  # `python -m apps.workers <workload>`
            assert args[3:] == [name] and name in getattr(runner, "WORKLOADS", runner.TASK_MODULES)


def openapi_paths(name: str) -> dict[str, Any]:
    path = ROOT / "apps" / package(name) / "openapi.yaml"
    return dict(yaml.safe_load(Path(path).read_text())["paths"]) if path.is_file() else {}


@pytest.mark.parametrize("service", [w for w in wl.WEB_SERVICES if openapi_paths(w.name)], ids=lambda w: w.name)
def test_openapi_paths_are_under_the_route_the_alb_sends_to_the_service(service: wl.Workload) -> None:
    """The ALB forwards /api/<service>/* to the service's target group; the chart's probes own the rest."""
    for path in openapi_paths(service.name):
        assert path.startswith(service.api_path + "/") or path == service.api_path, f"{service.name}: {path}"
        assert path not in {wl.READINESS_PATH, wl.LIVENESS_PATH}
