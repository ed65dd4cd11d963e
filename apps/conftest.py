"""Session-wide real dependencies (MariaDB writer + GTID replica, Redis, moto server) for every app test.

A missing binary skips locally with the reason, and fails when CI=true: CI must never go green by skipping."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from apps.localdeps import LocalDeps
from apps.localdeps.process import MissingBinaryError


@pytest.fixture(scope="session")
def deps() -> Iterator[LocalDeps]:
    local = LocalDeps()
    try:
        endpoints = local.start()
    except MissingBinaryError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and a dependency is missing: {exc}")
        pytest.skip(f"local dependency missing: {exc}")
    # boto3 takes credentials from the environment, as it would from IRSA on EKS; these are moto's dummies.
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update(
        AWS_ACCESS_KEY_ID=endpoints.aws_access_key_id,
        AWS_SECRET_ACCESS_KEY=endpoints.aws_secret_access_key,
        AWS_DEFAULT_REGION=endpoints.aws_region,
    )
    yield local
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    local.stop()


@pytest.fixture
def healthy_deps(deps: LocalDeps) -> Iterator[LocalDeps]:
    """For drills: whatever a test stops or pauses is running and caught up again afterwards."""
    yield deps
    for name in ("writer", "replica", "redis"):
        if not deps.dependency(name).running:  # type: ignore[arg-type]
            deps.start_dependency(name)  # type: ignore[arg-type]
    status = deps.replica_lag()
    if status["sql_running"] != "Yes" or status["io_running"] != "Yes":
        deps.replica.query("START SLAVE")  # type: ignore[union-attr]
    deps.set_replica_delay(0)
    deps.wait_replica_caught_up()
