"""Reads the synthesized stacks (cdktf.out/stacks/<stack>/cdk.tf) into plain resources with their region.

python-hcl2 keeps string quotes ('"us-east-1"') and marks blocks with `__is_block__`; both are normalised
here once, so pricing rules see ordinary Python values. Reading HCL instead of importing cdktf keeps
`make cost` at a few seconds."""

from __future__ import annotations

import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2

STACK_NAME = re.compile(r"^(?P<stage>[a-z0-9]+)-(?P<role>primary|secondary)-(?P<layer>[a-z0-9-]+)$")


class SynthError(ValueError):
    """cdktf.out is missing or does not hold what `make synth` writes."""


@dataclass(frozen=True)
class Resource:
    stack: str
    stage: str
    role: str
    layer: str
    region: str
    type: str
    name: str
    attrs: dict[str, Any]

    @property
    def address(self) -> str:
        return f"{self.stack}/{self.type}.{self.name}"


_ESCAPE = re.compile(r'\\(["\\nrt])')
_ESCAPED = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}


def unquote(value: Any) -> Any:
    """Strip python-hcl2's quotes, string escapes and block markers, recursively."""
    if isinstance(value, str):
        if len(value) >= 2 and value[0] == value[-1] == '"':
            return _ESCAPE.sub(lambda m: _ESCAPED[m.group(1)], value[1:-1])
        return value
    if isinstance(value, list):
        return [unquote(v) for v in value]
    if isinstance(value, dict):
        return {unquote(k): unquote(v) for k, v in value.items() if k != "__is_block__"}
    return value


def parse_stack(stack: str, text: str) -> list[Resource]:
    """Every resource of one stack's HCL, each with the region of the provider it uses."""
    match = STACK_NAME.match(stack)
    if not match:
        raise SynthError(f"{stack}: stack name is not <stage>-<primary|secondary>-<layer>")
    doc = unquote(hcl2.loads(text))
    regions: dict[str, str] = {}
    for block in doc.get("provider", []):
        for provider, config in block.items():
            key = f"{provider}.{config['alias']}" if "alias" in config else provider
            regions[key] = str(config.get("region", ""))
    default_region = regions.get("aws", "")
    if not default_region:
        raise SynthError(f"{stack}: no region on the default aws provider")
    resources = []
    for block in doc.get("resource", []):
        for rtype, instances in block.items():
            for name, attrs in instances.items():
                provider = attrs.get("provider")
                region = regions.get(provider, default_region) if isinstance(provider, str) else default_region
                resources.append(
                    Resource(
                        stack=stack,
                        stage=match["stage"],
                        role=match["role"],
                        layer=match["layer"],
                        region=region,
                        type=rtype,
                        name=name,
                        attrs=attrs,
                    )
                )
    return resources


def _parse_args(args: tuple[str, str]) -> list[Resource]:
    return parse_stack(*args)


def read_outdir(outdir: Path, stage: str | None = None) -> list[Resource]:
    """All resources of every stack (or one stage's stacks) in a `make synth` output directory."""
    stacks_dir = outdir / "stacks"
    files = sorted(stacks_dir.glob("*/cdk.tf"))
    if not files:
        raise SynthError(f"{stacks_dir}: no synthesized stacks (cdk.tf); run `make synth` first")
    wanted = [(p.parent.name, p.read_text()) for p in files if not stage or p.parent.name.startswith(f"{stage}-")]
    # python-hcl2 (lark) is the slow part: parse stacks on every core.
    with ProcessPoolExecutor(max_workers=min(len(wanted), os.cpu_count() or 1) or 1) as pool:
        parsed = list(pool.map(_parse_args, wanted))
    resources = [r for stack in parsed for r in stack]
    if stage and not resources:
        raise SynthError(f"{stacks_dir}: no stacks for stage {stage!r}; run `make synth` first")
    return resources
