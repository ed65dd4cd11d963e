"""Reads the synthesized stacks (cdktf.out/stacks/<stack>/cdk.tf) into plain resources with their region.

python-hcl2 keeps string quotes ('"us-east-1"') and marks blocks with `__is_block__`; both are normalised
here once, so pricing rules see ordinary Python values. Reading HCL instead of importing cdktf keeps
`make cost` at a few seconds."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import multiprocessing
import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2

SHARED = "shared"
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
    # Stacks outside the <stage>-<role>-<layer> scheme (the per-account pipeline) form the "shared" stage.
    if match:
        stage, role, layer = match["stage"], match["role"], match["layer"]
    else:
        stage, role, layer = SHARED, "primary", stack.removeprefix(f"{SHARED}-")
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
                        stage=stage,
                        role=role,
                        layer=layer,
                        region=region,
                        type=rtype,
                        name=name,
                        attrs=attrs,
                    )
                )
    return resources


CACHE_DIR = Path(__file__).resolve().parents[1] / ".gen" / "cost-hcl"
_PARSER_VERSION = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def _cache_path(name: str, text: str) -> Path:
    """Keyed by this module's source, the stack name and the HCL, so any change misses the cache."""
    digest = hashlib.sha256(f"{_PARSER_VERSION}\0{name}\0{text}".encode()).hexdigest()
    return CACHE_DIR / f"{digest}.json"


def _cached(name: str, text: str) -> list[Resource] | None:
    path = _cache_path(name, text)
    try:
        return [Resource(**item) for item in json.loads(path.read_text())]
    except (OSError, ValueError, TypeError):
        return None


def _parse(args: tuple[str, str]) -> list[Resource]:
    return parse_stack(*args)


def _store(name: str, text: str, resources: list[Resource]) -> None:
    path = _cache_path(name, text)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps([dataclasses.asdict(r) for r in resources]))
        tmp.replace(path)
    except OSError:
        pass  # the cache only saves time


def _prune(keep: set[str]) -> None:
    """A full read knows every current stack: drop cache entries of HCL that no longer exists."""
    for path in CACHE_DIR.glob("*.json"):
        if path.name not in keep:
            path.unlink(missing_ok=True)


def read_outdir(outdir: Path, stage: str | None = None) -> list[Resource]:
    """All resources of every stack (or one stage's stacks) in a `make synth` output directory."""
    stacks_dir = outdir / "stacks"
    files = sorted(stacks_dir.glob("*/cdk.tf"))
    if not files:
        raise SynthError(f"{stacks_dir}: no synthesized stacks (cdk.tf); run `make synth` first")
    wanted = [(p.parent.name, p.read_text()) for p in files if not stage or p.parent.name.startswith(f"{stage}-")]
    parsed = {name: _cached(name, text) for name, text in wanted}
    missing = [(name, text) for name, text in wanted if parsed[name] is None]
    if missing:
        # python-hcl2 (lark) is the slow part: parse the stacks not seen before on every core. Workers come
        # from a fork server, never from this process, which may run threads (jsii in a test session).
        workers = max(1, min(len(missing), os.cpu_count() or 1))
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
            for (name, text), resources in zip(missing, pool.map(_parse, missing), strict=True):
                _store(name, text, resources)
                parsed[name] = resources
    if not stage:
        _prune({_cache_path(name, text).name for name, text in wanted})
    result = [r for name, _ in wanted for r in parsed[name] or []]
    if stage and not result:
        raise SynthError(f"{stacks_dir}: no stacks for stage {stage!r}; run `make synth` first")
    return result
