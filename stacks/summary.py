"""The table `make synth` prints: each synthesized stack and its resource count, read back from disk."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from stacks.config import PlatformConfig

_RESOURCE_BLOCK = re.compile(r'^resource "', re.MULTILINE)


def count_resources(stack_dir: Path) -> int:
    """Counts resources in a stack's cdk.tf (HCL) or cdk.tf.json, whichever the synth wrote."""
    hcl = stack_dir / "cdk.tf"
    if hcl.is_file():
        return len(_RESOURCE_BLOCK.findall(hcl.read_text()))
    doc = json.loads((stack_dir / "cdk.tf.json").read_text())
    return sum(len(instances) for instances in doc.get("resource", {}).values())


def synthesized_stacks(outdir: str | Path) -> dict[str, Path]:
    manifest = json.loads((Path(outdir) / "manifest.json").read_text())
    return {name: Path(outdir) / spec["workingDirectory"] for name, spec in manifest["stacks"].items()}


def print_summary(outdir: str | Path) -> None:
    rows = [(name, count_resources(path)) for name, path in synthesized_stacks(outdir).items()]
    width = max(len(name) for name, _ in rows)
    print(f"{'stack':<{width}}  resources")
    for name, count in rows:
        print(f"{name:<{width}}  {count:>9}")
    print(f"{len(rows)} stacks, {sum(c for _, c in rows)} resources -> {outdir}/stacks/<stack>/cdk.tf")


def synth_json_docs(config: PlatformConfig, stage: str | None = None) -> dict[str, dict]:
    """Synthesize (JSON, in a temporary directory) the stacks of one stage or all, plus the shared pipeline,
    and return each stack's parsed cdk.tf.json: what doc generators read."""
    from cdktf import App

    from stacks.app import build_stacks

    with tempfile.TemporaryDirectory() as outdir:
        app = App(outdir=outdir, stack_traces=False)
        build_stacks(app, config.select(stage), pipeline=config.pipeline)
        app.synth()
        return {
            name: json.loads((path / "cdk.tf.json").read_text()) for name, path in synthesized_stacks(outdir).items()
        }
