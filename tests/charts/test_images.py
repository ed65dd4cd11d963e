"""The image build pieces the charts rely on: the shared Dockerfile's shape, the locked requirements it
installs, and the secrets entry point every pod runs (real processes, real files)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.charts.render import CHARTS, ROOT

DOCKERFILE = CHARTS / "images" / "Dockerfile"
LOCK_REQUIREMENTS = CHARTS / "images" / "lock_requirements.py"
SECRETS_ENV = CHARTS / "peakshop" / "files" / "secrets_env.py"


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
