"""Builds every stack of every stage once per session: the provider import alone costs seconds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cdktf import App

from stacks.app import build_stacks
from stacks.config import load_config
from stacks.summary import synthesized_stacks
from tests.infra.synthesized import Platform


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Platform:
    config = load_config({})
    outdir = tmp_path_factory.mktemp("cdktf.out")
    app = App(outdir=str(outdir), stack_traces=False)
    stacks = build_stacks(app, config.select(None), pipeline=config.pipeline)
    app.synth()
    docs = {name: json.loads((path / "cdk.tf.json").read_text()) for name, path in synthesized_stacks(outdir).items()}
    return Platform(config=config, stacks=stacks, docs=docs)


@pytest.fixture(scope="session")
def hcl_outdir() -> Path:
    """The HCL that `make synth` wrote; `make test` runs synth first."""
    outdir = Path(__file__).resolve().parents[2] / "cdktf.out"
    assert (outdir / "manifest.json").is_file(), "cdktf.out is missing: run `make synth` (make test does)"
    return outdir
