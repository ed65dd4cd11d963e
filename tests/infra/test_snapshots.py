"""A JSON snapshot per stack of the dev stage: any change to the synthesized Terraform shows up in review.
Update with `make snapshots` after an intended change."""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from stacks.config import ROLES, stack_name
from tests.infra.synthesized import Platform

SNAPSHOT_STAGE = "dev"
LAYERS = ("network", "data", "compute", "edge", "observability", "dr")
PRIMARY_ONLY_LAYERS = ("edge",)  # one stack per stage that spans both regions
CASES = [(layer, role) for layer in LAYERS for role in ROLES if role == "primary" or layer not in PRIMARY_ONLY_LAYERS]


@pytest.fixture
def json_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize(("layer", "role"), CASES)
def test_stack_snapshot(platform: Platform, json_snapshot: SnapshotAssertion, role: str, layer: str) -> None:
    assert platform.docs[stack_name(SNAPSHOT_STAGE, role, layer)] == json_snapshot
