"""Assembles every layer stack of the selected stages into one cdktf App (one process: the provider
import costs seconds, so all stacks are built together)."""

from __future__ import annotations

from cdktf import App, TerraformStack

from stacks.compute import ComputeStack
from stacks.config import ROLES, PipelineConfig, StageConfig
from stacks.data import DataStack
from stacks.dr import DrStack
from stacks.edge import EdgeStack
from stacks.network import NetworkStack
from stacks.observability import ObservabilityStack
from stacks.pipeline import PipelineStack


def build_stacks(
    app: App, stages: list[StageConfig], pipeline: PipelineConfig | None = None
) -> dict[str, TerraformStack]:
    """Return the stacks by name, in dependency order; `pipeline` adds the shared delivery pipeline stack."""
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
        data = {"primary": primary_data, "secondary": secondary_data}
        computes = {"primary": primary_compute, "secondary": secondary_compute}
        observability = {
            role: ObservabilityStack(
                app,
                stage,
                role,
                network=networks[role],
                data=data[role],
                compute=computes[role],
                edge=edge if role == "primary" else None,
            )
            for role in ROLES
        }
        standby = DrStack(
            app,
            stage,
            "secondary",
            data=secondary_data,
            observability=observability["secondary"],
            compute=secondary_compute,
            edge=edge,
        )
        primary_dr = DrStack(
            app,
            stage,
            "primary",
            data=primary_data,
            observability=observability["primary"],
            compute=primary_compute,
            edge=edge,
            standby=standby,
        )
        stacks += [*observability.values(), standby, primary_dr]
    if pipeline is not None:
        stacks.append(PipelineStack(app, pipeline, stages))
    return {stack.node.id: stack for stack in stacks}
