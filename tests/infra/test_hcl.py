"""The HCL that `make synth` writes parses back (python-hcl2) to the same resources as the JSON synth."""

from __future__ import annotations

from pathlib import Path

import hcl2

from stacks.summary import synthesized_stacks
from tests.infra.synthesized import Platform


def unquote(label: str) -> str:
    return label.strip('"')


def hcl_addresses(cdk_tf: Path) -> set[str]:
    with cdk_tf.open() as handle:
        parsed = hcl2.load(handle)
    addresses = set()
    for block in parsed.get("resource", []):
        for resource_type, instances in block.items():
            addresses |= {f"{unquote(resource_type)}.{unquote(name)}" for name in instances}
    return addresses


def json_addresses(doc: dict) -> set[str]:
    return {f"{rtype}.{name}" for rtype, instances in doc.get("resource", {}).items() for name in instances}


def test_hcl_has_every_stack(platform: Platform, hcl_outdir: Path) -> None:
    assert set(synthesized_stacks(hcl_outdir)) == set(platform.docs), "cdktf.out is stale: run `make synth`"


def test_hcl_parses_to_the_json_resources(platform: Platform, hcl_outdir: Path) -> None:
    for name, path in synthesized_stacks(hcl_outdir).items():
        addresses = hcl_addresses(path / "cdk.tf")
        assert addresses, name
        assert addresses == json_addresses(platform.docs[name]), name
