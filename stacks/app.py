"""Assembles every layer stack of the selected stages into one cdktf App (one process: the provider
import costs seconds, so all stacks are built together)."""

from __future__ import annotations

from cdktf import App, TerraformStack

from stacks.compute import ComputeStack
from stacks.config import StageConfig
from stacks.data import DataStack
from stacks.edge import EdgeStack
from stacks.network import NetworkStack


def build_stacks(app: App, stages: list[StageConfig]) -> dict[str, TerraformStack]:
    """Return the stacks by name, in dependency order."""
    stacks: list[TerraformStack] = []
    for stage in stages:
        networks = {role: NetworkStack(app, stage, role) for role in ("primary", "secondary")}
        primary_data = DataStack(app, stage, "primary", network=networks["primary"])
        secondary_data = DataStack(app, stage, "secondary", network=networks["secondary"], primary=primary_data)
        stacks += [networks["primary"], networks["secondary"], primary_data, secondary_data]
        primary_compute = ComputeStack(app, stage, "primary", network=networks["primary"], data=primary_data)
        secondary_compute = ComputeStack(
            app, stage, "secondary", network=networks["secondary"], data=secondary_data, primary=primary_compute
        )
        edge = EdgeStack(app, stage, primary=primary_compute, secondary=secondary_compute, data=primary_data)
        stacks += [primary_compute, secondary_compute, edge]
    return {stack.node.id: stack for stack in stacks}
