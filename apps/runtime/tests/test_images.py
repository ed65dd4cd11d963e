"""Static checks of the service images (no Docker engine here): pinned bases, non-root user, the platform
port, an importable entry point, and every third-party import of the shipped code installed in the image."""

from __future__ import annotations

import ast
import importlib
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from stacks.workloads import APP_PORT

ROOT = Path(__file__).resolve().parents[3]
SERVICES = ("catalog", "cart", "accounts")
RUNTIME_REQS = [
    Requirement(line)
    for line in (ROOT / "apps/requirements-runtime.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]


def closure(names: set[str]) -> set[str]:
    """Distribution names installed by pip for `names` (following metadata requirements without extras)."""
    seen: set[str] = set()
    todo = [n.lower().replace("_", "-") for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for raw in metadata.requires(name) or []:
            req = Requirement(raw)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name.lower().replace("_", "-"))
    return seen


def third_party_imports(paths: list[Path]) -> set[str]:
    found: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    local = {"apps", "stacks", "__future__"}
    return {m for m in found - local if m not in sys.stdlib_module_names}


def test_runtime_requirements_match_pipfile_pins():
    pipfile = tomllib.loads((ROOT / "Pipfile").read_text())["packages"]
    for req in RUNTIME_REQS:
        pin = pipfile[req.name]
        assert str(req.specifier) == (pin if isinstance(pin, str) else pin["version"]), req.name


@pytest.mark.parametrize("service", SERVICES)
def test_dockerfile_shape(service: str):
    text = (ROOT / f"apps/{service}/Dockerfile").read_text()
    for image in re.findall(r"^FROM\s+(\S+)", text, re.M):
        assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+[\w.-]*", image), f"unpinned base image {image}"
    assert re.search(r"^USER\s+[1-9]\d{3,}$", text, re.M), "must run as a numeric non-root user"
    assert re.search(rf"^EXPOSE\s+{APP_PORT}$", text, re.M)
    assert f"apps.{service}.wsgi:app" in text and "apps/runtime/gunicorn_conf.py" in text
    for src in re.findall(r"^COPY\s+(?!--from)(.+)\s+\S+$", text, re.M):
        for part in src.split():
            assert (ROOT / part).exists(), f"COPY source {part} missing"
    importlib.import_module(f"apps.{service}.app")


@pytest.mark.parametrize("service", SERVICES)
def test_shipped_code_imports_only_installed_packages(service: str):
    shipped = [
        p for d in ("apps/runtime", f"apps/{service}") for p in (ROOT / d).rglob("*.py") if "tests" not in p.parts
    ]
    installed = closure({r.name for r in RUNTIME_REQS})
    providers = metadata.packages_distributions()
    for module in third_party_imports(shipped):
        dists = {d.lower().replace("_", "-") for d in providers.get(module, [])}
        assert dists & installed, f"apps/{service} imports {module}, which the image does not install"
