"""Renders the umbrella chart once per stage and region for the whole session (helm, no cluster)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from stacks.config import STAGE_NAMES
from tests.charts.render import Target, build_dependencies, documents, helm_binary, render

TARGETS = tuple(Target(stage, role) for stage in STAGE_NAMES for role in ("primary", "secondary"))
Docs = list[dict[str, Any]]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if helm_binary() is None and os.environ.get("CI") != "true":
        skip = pytest.mark.skip(reason="helm is not installed (run `make setup`); CI never skips these")
        for item in items:
            if "tests/charts" in str(item.fspath):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build_dependencies()
    return tmp_path_factory.mktemp("charts")


@pytest.fixture(scope="session")
def rendered(workdir: Path) -> dict[Target, Docs]:
    """Every stage, for the cluster of each of its two regions."""
    return {target: documents(render(target, workdir)) for target in TARGETS}


def of_kind(docs: Docs, kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def pod_specs(docs: Docs) -> dict[str, dict[str, Any]]:
    """Every pod template: Deployments and (hook) Jobs."""
    return {
        f"{d['kind']}/{d['metadata']['name']}": d["spec"]["template"]["spec"]
        for d in docs
        if d["kind"] in ("Deployment", "Job")
    }
