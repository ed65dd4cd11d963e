"""The image build pieces the charts rely on: the shared Dockerfile's shape, each package's thin Dockerfile on
its base, the locked requirements it installs (and that they cover every import of the shipped code), and the
secrets entry point every pod runs (real processes, real files). No Docker engine here: static checks."""

from __future__ import annotations

import ast
import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from stacks.workloads import APP_PORT, WORKLOADS
from tests.charts.render import CHARTS, ROOT

DOCKERFILE = CHARTS / "images" / "Dockerfile"
LOCK_REQUIREMENTS = CHARTS / "images" / "lock_requirements.py"
SECRETS_ENV = CHARTS / "peakshop" / "files" / "secrets_env.py"
# The apps/ package of each workload, as the chart's `peakshop-lib.package` maps them: workers share one.
PACKAGES = sorted({w.name if w.kind == "web" else "workers" for w in WORKLOADS})
WEB = {w.name for w in WORKLOADS if w.kind == "web"}


def instructions(path: Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", path.read_text())
    return [
        (line.split()[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in (raw.strip() for raw in text.splitlines())
        if line and not line.startswith("#")
    ]


def test_dockerfile_pins_its_base_once_and_runs_as_non_root_without_build_tools() -> None:
    steps = instructions(DOCKERFILE)
    froms = [arg for op, arg in steps if op == "FROM"]
    external = [f for f in froms if "@sha256:" in f]
    assert len(external) == 1 and external[0].startswith("python:3.11-slim"), "one pinned Python base"
    aliases = {f.split()[-1] for f in froms if " AS " in f}
    assert all(f.split()[0] in aliases for f in froms if f not in external), "other stages build on aliases"
    assert not any(op == "HEALTHCHECK" for op, _ in steps), "Kubernetes probes are the health checks"
    stages: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for op, arg in steps:
        if op == "FROM":
            current = arg.split()[-1]
        stages.setdefault(current, []).append((op, arg))
    for final in ("base", "service"):
        users = [arg for op, arg in stages[final] if op == "USER"]
        assert users and users[-1].split(":")[0] == "10001", final
        runs = " ".join(arg for op, arg in stages[final] if op == "RUN")
        assert not re.search(r"\b(apt-get|pip|gcc|build-essential)\b", runs), f"{final}: no build tools"


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_has_a_thin_dockerfile_on_the_shared_base(package: str) -> None:
    """One service = one folder with its Dockerfile: the shared base (tagged, never `latest`) plus the package,
    non-root, with the chart's default entry point for that kind."""
    steps = instructions(ROOT / "apps" / package / "Dockerfile")
    (base,) = [arg for op, arg in steps if op == "FROM"]
    assert re.fullmatch(r"peakshop/base:[\w.-]+", base) and not base.endswith(":latest")
    assert not any(op in ("COPY", "ADD", "RUN") for op, _ in steps), "the base ships the code and the packages"
    assert [arg for op, arg in steps if op == "USER"] == ["10001:10001"]
    (cmd,) = [json.loads(arg) for op, arg in steps if op == "CMD"]
    if package in WEB:
        assert cmd == ["gunicorn", "--config", "apps/runtime/gunicorn_conf.py", f"apps.{package}.wsgi:app"]
        assert ("EXPOSE", str(APP_PORT)) in steps
        importlib.import_module(f"apps.{package}.app")
    else:
        assert cmd[:3] == ["python", "-m", "apps.workers"] and cmd[3] in {w.name for w in WORKLOADS}


def third_party_imports(paths: list[Path]) -> set[str]:
    found: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found - {"apps", "stacks", "__future__"} if m not in sys.stdlib_module_names}


def shipped_packages() -> set[str]:
    """The apps/ packages the build context sends (.dockerignore: deny all, then allow)."""
    allowed = [line[1:] for line in (ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")]
    return {a.split("/")[1] for a in allowed if a.startswith("apps/") and a.count("/") == 1 and "." not in a}


def app_imports(paths: list[Path]) -> set[str]:
    found: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("apps."):
                found.add(node.module.split(".")[1])
            elif isinstance(node, ast.Import):
                found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("apps.")}
    return found


def shipped_files(package: str) -> list[Path]:
    excluded = {ROOT / "apps" / "workers" / "localenv.py"}  # local tooling, kept out by .dockerignore
    return [p for p in (ROOT / "apps" / package).rglob("*.py") if "tests" not in p.parts and p not in excluded]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_app_package_the_shipped_code_imports_is_in_the_image(package: str) -> None:
    """orders imports apps.workers, the workers import orders, payments and cart: a service image that carried
    only its own folder would crash at import in the cluster and nowhere else."""
    shipped = shipped_packages()
    assert package in shipped and "runtime" in shipped
    todo, seen = [package], set()
    while todo:
        current = todo.pop()
        seen.add(current)
        imported = app_imports(shipped_files(current))
        assert imported <= shipped, f"apps/{current} imports {sorted(imported - shipped)}, not in the image"
        todo += sorted(imported - seen)


@pytest.mark.parametrize("package", PACKAGES)
def test_shipped_code_imports_only_what_the_image_installs(package: str) -> None:
    """The image installs the lock file's `default` packages only: a service importing a dev package (or one
    missing from the Pipfile) would crash at start in the cluster and nowhere else."""
    from importlib import metadata

    installed = {name.lower().replace("_", "-") for name in json.loads((ROOT / "Pipfile.lock").read_text())["default"]}
    providers = metadata.packages_distributions()
    for module in third_party_imports(shipped_files("runtime") + shipped_files(package)):
        dists = {d.lower().replace("_", "-") for d in providers.get(module, [])}
        assert dists & installed, f"apps/{package} imports {module}, which the image does not install"


def test_lock_requirements_pins_every_runtime_package_with_hashes() -> None:
    lock = json.loads((ROOT / "Pipfile.lock").read_text())
    out = subprocess.run(
        [sys.executable, str(LOCK_REQUIREMENTS), str(ROOT / "Pipfile.lock")], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert len(out) == len(lock["default"])
    for line, (name, spec) in zip(out, sorted(lock["default"].items()), strict=True):
        assert line.startswith(f"{name}{spec['version']}")
        assert line.count("--hash=sha256:") == len(spec["hashes"])
    assert not any(line.startswith("pytest==") for line in out), "dev packages stay out of images"


def test_lock_requirements_refuses_an_unpinned_package(tmp_path: Path) -> None:
    lock = tmp_path / "Pipfile.lock"
    lock.write_text(json.dumps({"default": {"flask": {"version": "*"}}}))
    result = subprocess.run([sys.executable, str(LOCK_REQUIREMENTS), str(lock)], capture_output=True, text=True)
    assert result.returncode == 2 and "flask: needs a pinned version and hashes" in result.stderr


def secret_volume(root: Path, values: dict[str, str]) -> Path:
    """The layout kubelet writes for a Secret volume: ..data -> timestamped dir, keys as symlinks into it."""
    stamped = root / "..2026_11_24_14_00_00.000000001"
    stamped.mkdir(parents=True)
    for key, value in values.items():
        (stamped / key).write_text(value)
    (root / "..data").symlink_to(stamped.name)
    for key in values:
        (root / key).symlink_to(f"..data/{key}")
    return root


def run_entry(
    directory: Path | None, *command: str, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEAKSHOP_")}
    if directory is not None:
        env["PEAKSHOP_SECRETS_DIR"] = str(directory)
    env.update(extra_env or {})
    return subprocess.run([sys.executable, str(SECRETS_ENV), *command], capture_output=True, text=True, env=env)


PRINT_ENV = (
    sys.executable,
    "-c",
    "import json, os; print(json.dumps({k: v for k, v in os.environ.items() if k.startswith('PEAKSHOP_')}))",
)


def test_secrets_entry_point_exports_secret_files_and_execs(tmp_path: Path) -> None:
    volume = secret_volume(tmp_path / "secrets", {"PEAKSHOP_CART_DB_WRITER_URL": "mysql://u:p%40ss@h:3306/cart"})
    result = run_entry(volume, *PRINT_ENV)
    assert result.returncode == 0, result.stderr
    exported = json.loads(result.stdout)
    assert exported["PEAKSHOP_CART_DB_WRITER_URL"] == "mysql://u:p%40ss@h:3306/cart"
    assert "PEAKSHOP_SECRETS_DIR" in exported and not any(k.startswith("..") for k in exported)


def test_secrets_entry_point_passes_the_exit_status_through(tmp_path: Path) -> None:
    result = run_entry(None, sys.executable, "-c", "raise SystemExit(4)")
    assert result.returncode == 4


@pytest.mark.parametrize(
    ("files", "extra_env", "message"),
    [
        ({"PEAKSHOP_X_KEY": "a"}, {"PEAKSHOP_X_KEY": "b"}, "set both as a secret file and in the environment"),
        ({"not-a-name": "a"}, {}, "must be environment variable names"),
    ],
)
def test_secrets_entry_point_refuses_bad_input(tmp_path: Path, files: dict, extra_env: dict, message: str) -> None:
    result = run_entry(secret_volume(tmp_path / "s", files), *PRINT_ENV, extra_env=extra_env)
    assert result.returncode == 2 and message in result.stderr and result.stdout == ""


def test_secrets_entry_point_refuses_a_missing_volume(tmp_path: Path) -> None:
    result = run_entry(tmp_path / "absent", *PRINT_ENV)
    assert result.returncode == 2 and "is the Secret mounted?" in result.stderr
