"""Read helpers over synthesized Terraform JSON, shared by the infrastructure tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cdktf import TerraformStack

from stacks.config import PlatformConfig

Doc = dict[str, Any]


@dataclass
class Platform:
    """Every stack of every stage, built and synthesized once per test session."""

    config: PlatformConfig
    stacks: dict[str, TerraformStack]
    docs: dict[str, Doc]  # stack name -> parsed cdk.tf.json

    def stage_docs(self, stage: str) -> dict[str, Doc]:
        return {name: doc for name, doc in self.docs.items() if name.startswith(f"{stage}-")}

    def layer_docs(self, layer: str) -> dict[str, Doc]:
        return {name: doc for name, doc in self.docs.items() if name.endswith(f"-{layer}")}


def resources(doc: Doc, resource_type: str) -> dict[str, Doc]:
    return doc.get("resource", {}).get(resource_type, {})


def data_sources(doc: Doc, data_type: str) -> dict[str, Doc]:
    return doc.get("data", {}).get(data_type, {})


def all_resources(docs: dict[str, Doc], resource_type: str) -> Iterator[tuple[str, str, Doc]]:
    """(stack, logical name, config) for every resource of a type across stacks."""
    for stack, doc in docs.items():
        for name, config in resources(doc, resource_type).items():
            yield stack, name, config


def ref_name(expression: str) -> str:
    """`${aws_sqs_queue.queue-orders_dlq_1234.arn}` -> `queue-orders_dlq_1234` (also for `data.` refs)."""
    parts = expression.strip("${}").removeprefix("data.").split(".")
    return parts[1]
