"""Reading cdktf's HCL: quotes, escapes and blocks normalised, regions from provider aliases, the parse cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from cost import hcl
from cost.hcl import SynthError, parse_stack, read_outdir, unquote
from cost.tests.conftest import provider

BODY = """
provider "aws" {
  region = "us-east-1"
  alias = "primary"
}
resource "aws_s3_bucket" "replica" {
  bucket_prefix = "a-\\"quoted\\"-name"
}
resource "aws_s3_bucket_replication_configuration" "rule" {
  provider = "aws.primary"
  rule {
    id = "r"
  }
}
"""


def test_values_lose_quotes_escapes_and_block_markers() -> None:
    assert unquote({'"key"': ['"a\\"b"', {"x": 1, "__is_block__": True}]}) == {"key": ['a"b', {"x": 1}]}


def test_resources_take_the_region_of_their_provider_alias() -> None:
    resources = {r.name: r for r in parse_stack("prod-secondary-data", provider("us-west-2") + BODY)}
    assert resources["replica"].region == "us-west-2"
    assert resources["replica"].attrs["bucket_prefix"] == 'a-"quoted"-name'
    assert resources["rule"].region == "us-east-1"
    assert resources["rule"].attrs["rule"] == [{"id": "r"}]
    assert (resources["rule"].stage, resources["rule"].role, resources["rule"].layer) == ("prod", "secondary", "data")


def test_a_stack_without_region_is_an_error() -> None:
    with pytest.raises(SynthError, match="prod-primary-data: no region on the default aws provider"):
        parse_stack("prod-primary-data", 'resource "aws_kms_key" "k" {\n}\n')


def test_read_outdir_filters_by_stage_and_caches_the_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hcl, "CACHE_DIR", tmp_path / "cache")
    for name in ("prod-secondary-data", "dev-secondary-data"):
        (tmp_path / "out" / "stacks" / name).mkdir(parents=True)
        (tmp_path / "out" / "stacks" / name / "cdk.tf").write_text(provider("us-west-2") + BODY)
    first = read_outdir(tmp_path / "out", "prod")
    assert {r.stack for r in first} == {"prod-secondary-data"}
    assert len(list((tmp_path / "cache").glob("*.json"))) == 1
    assert read_outdir(tmp_path / "out", "prod") == first  # served from the cache, equal resources
    with pytest.raises(SynthError, match="no stacks for stage 'staging'; run `make synth` first"):
        read_outdir(tmp_path / "out", "staging")
