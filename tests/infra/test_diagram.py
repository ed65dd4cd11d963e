"""The committed architecture diagram is what the current stacks generate (`make diagram` refreshes it)."""

from __future__ import annotations

import pytest

from stacks.diagram import DOCS_DIR, FORMATS, render_dot, render_image
from tests.infra.synthesized import Platform

STALE = "docs/architecture.* is stale: run `make diagram` and commit the result"


def test_diagram_source_matches_the_synthesized_stacks(platform: Platform) -> None:
    assert (DOCS_DIR / "architecture.dot").read_text() == render_dot(platform.docs), STALE


@pytest.mark.parametrize("fmt", FORMATS)
def test_diagram_images_are_rendered_from_the_committed_source(fmt: str) -> None:
    source = (DOCS_DIR / "architecture.dot").read_text()
    assert (DOCS_DIR / f"architecture.{fmt}").read_bytes() == render_image(source, fmt), STALE


def test_diagram_draws_every_layer_and_the_cross_region_replica(platform: Platform) -> None:
    source = render_dot(platform.docs)
    for layer in ("network", "data", "compute", "edge", "observability", "dr"):
        assert f"prod-primary-{layer}" in source
    assert '"prod-secondary-data/aws_db_instance" -> "prod-primary-data/aws_db_instance"' in source
    assert "dev-primary" not in source
