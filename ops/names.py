"""The AWS resource names the runbooks act on, derived exactly as the stacks name them (stacks/base.py
prefix, stacks/data.py, stacks/compute.py, stacks/edge.py, stacks/dr.py), so that the CLI and the
infrastructure cannot disagree. Regions and sizes come from stacks/config.py (PEAKSHOP_CONFIG applies)."""

from __future__ import annotations

from dataclasses import dataclass

from stacks.config import NodeGroupSize, Role, StageConfig, load_config
from stacks.workloads import QUEUES


def prefix(stage: str, role: Role) -> str:
    """stacks/base.py LayerStack.prefix."""
    return f"peakshop-{stage}-{'p' if role == 'primary' else 's'}"


@dataclass(frozen=True)
class RegionNames:
    role: Role
    region: str
    prefix: str

    @property
    def db_writer(self) -> str:
        return f"{self.prefix}-db"  # in the secondary region: the cross-region replica

    def db_read_replica(self, index: int) -> str:
        return f"{self.prefix}-db-read-{index}"

    @property
    def cluster(self) -> str:
        return self.prefix

    def node_group(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    @property
    def redis_group(self) -> str:
        return f"{self.prefix}-redis"

    @property
    def redis_user(self) -> str:
        return f"{self.prefix}-app"

    def queue(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def dlq(self, name: str) -> str:
        return f"{self.prefix}-{name}-dlq"

    @property
    def failover_state_machine(self) -> str:
        return f"{self.prefix}-failover"

    @property
    def customer_impact_alarm(self) -> str:
        return f"{self.prefix}-customer-impact"


@dataclass(frozen=True)
class StageNames:
    config: StageConfig
    primary: RegionNames
    secondary: RegionNames

    @property
    def stage(self) -> str:
        return self.config.name

    def region(self, role: Role) -> RegionNames:
        return self.primary if role == "primary" else self.secondary

    def health_check_tag(self, role: Role) -> str:
        """stacks/edge.py: the edge stack (primary prefix) tags each region's /readyz check."""
        return f"{self.primary.prefix}-{role}-readyz"

    @property
    def failback_replica(self) -> str:
        """The primary-region replica that failback builds from the promoted secondary writer."""
        return f"{self.primary.prefix}-db-failback"

    def app_nodes(self, role: Role) -> NodeGroupSize:
        sizes = self.config.sizes
        return sizes.app_nodes if role == "primary" else sizes.secondary_app_nodes

    def cache_node_type(self, role: Role) -> str:
        sizes = self.config.sizes
        return sizes.cache_node_type if role == "primary" else sizes.secondary_cache_node_type

    @property
    def queues(self) -> tuple[str, ...]:
        return QUEUES


def for_stage(stage: str) -> StageNames:
    """Raises stacks.config.ConfigError for an unknown stage."""
    config = load_config().select(stage)[0]
    return StageNames(
        config=config,
        primary=RegionNames("primary", config.primary.region, prefix(stage, "primary")),
        secondary=RegionNames("secondary", config.secondary.region, prefix(stage, "secondary")),
    )
