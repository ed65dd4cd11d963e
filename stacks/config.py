"""Typed platform configuration: the one place where stages, regions, CIDRs, sizes and tags live.

This module must not import cdktf: `main.py` validates configuration before paying the seconds-long
provider import, so a bad value fails fast with a message that names the field.

Operators override defaults with a YAML file named by `PEAKSHOP_CONFIG` (deep-merged onto the defaults,
keyed like the dataclasses below) and the regions with `PEAKSHOP_PRIMARY_REGION` /
`PEAKSHOP_SECONDARY_REGION`. `PEAKSHOP_PEAK=true` builds the planned-peak sizes (`db_peak_read_replicas`).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import itertools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

Role = Literal["primary", "secondary"]
ROLES: tuple[Role, ...] = ("primary", "secondary")
STAGE_NAMES: tuple[str, ...] = ("dev", "staging", "prod")
PROJECT = "peakshop"
EKS_VERSION = "1.34"  # the newest EKS standard-support version the pinned AWS provider (6.25) knows
# Tag on the primary writer with `db_peak_read_replicas`: the cost estimate reads the peak size from the HCL.
PEAK_REPLICAS_TAG = "peak-read-replicas"


class ConfigError(ValueError):
    """A configuration value is invalid; the message starts with the dotted path of the field."""


@dataclass(frozen=True)
class RegionConfig:
    region: str
    vpc_cidr: str
    azs: tuple[str, ...]

    def subnet_cidrs(self) -> dict[str, list[str]]:
        """Carve the VPC into per-AZ tiers: public /24s, private (app) /20s, isolated (data) /24s."""
        vpc = ipaddress.ip_network(self.vpc_cidr)
        twenties = list(vpc.subnets(new_prefix=20))
        n = len(self.azs)
        public = list(twenties[0].subnets(new_prefix=24))[:n]
        isolated = list(twenties[-1].subnets(new_prefix=24))[:n]
        private = twenties[1 : 1 + n]
        return {
            "public": [str(c) for c in public],
            "private": [str(c) for c in private],
            "isolated": [str(c) for c in isolated],
        }


@dataclass(frozen=True)
class NodeGroupSize:
    instance_types: tuple[str, ...]
    min_size: int
    desired_size: int
    max_size: int


@dataclass(frozen=True)
class Sizes:
    nat_per_az: bool
    db_instance_class: str
    db_allocated_storage_gb: int
    db_max_storage_gb: int
    db_multi_az: bool
    db_read_replicas: int
    # Read replicas while a planned peak runs (Black Friday): `PEAKSHOP_PEAK=true cdktf deploy` ahead of it.
    db_peak_read_replicas: int
    db_backup_retention_days: int
    cache_node_type: str
    # The warm standby's cache until failover, which scales it online to `cache_node_type` (stacks/failover.py).
    secondary_cache_node_type: str
    cache_nodes: int
    system_nodes: NodeGroupSize
    app_nodes: NodeGroupSize
    secondary_app_nodes: NodeGroupSize
    log_retention_days: int
    deletion_protection: bool


@dataclass(frozen=True)
class AlarmThresholds:
    """When the observability layer pages (integers: percent, milliseconds, seconds, counts per 5 minutes)."""

    alb_5xx_percent: int
    target_p99_ms: int
    rds_cpu_percent: int
    rds_free_storage_percent: int
    rds_replica_lag_s: int
    rds_connections: int
    redis_cpu_percent: int
    redis_evictions: int
    redis_replication_lag_s: int
    queue_oldest_message_s: int
    cloudfront_5xx_percent: int
    waf_blocked_requests: int


@dataclass(frozen=True)
class Tags:
    owner: str
    cost_center: str
    data_classification: str

    def for_stage(self, stage: str) -> dict[str, str]:
        return {
            "project": PROJECT,
            "stage": stage,
            "owner": self.owner,
            "cost-center": self.cost_center,
            "data-classification": self.data_classification,
        }


@dataclass(frozen=True)
class Backend:
    bucket: str
    region: str
    key_prefix: str = PROJECT

    def key_for(self, stack_name: str) -> str:
        return f"{self.key_prefix}/{stack_name}/terraform.tfstate"


@dataclass(frozen=True)
class StageConfig:
    name: str
    primary: RegionConfig
    secondary: RegionConfig
    sizes: Sizes
    tags: Tags
    backend: Backend
    alarms: AlarmThresholds
    monthly_budget_usd: int
    domain: str
    alert_emails: tuple[str, ...] = ()
    eks_version: str = EKS_VERSION
    # Who may reach the EKS API from outside the VPC (office/VPN egress); empty turns the public endpoint off.
    eks_public_access_cidrs: tuple[str, ...] = ()
    # IAM role names that get cluster-admin access entries (break-glass and the deploy pipeline).
    eks_admin_roles: tuple[str, ...] = ()

    def region(self, role: Role) -> RegionConfig:
        return self.primary if role == "primary" else self.secondary


@dataclass(frozen=True)
class PipelineConfig:
    """The delivery pipeline (stack `shared-pipeline`): one per account, outside the stage/role layering."""

    repository: str  # "owner/name" behind the CodeStar connection
    branch: str
    region: str
    backend: Backend
    tags: Tags


@dataclass(frozen=True)
class PlatformConfig:
    stages: dict[str, StageConfig] = field(default_factory=dict)
    pipeline: PipelineConfig | None = None

    def select(self, stage: str | None) -> list[StageConfig]:
        """The stages to build: all, or the one named (STAGE=prod make synth)."""
        if not stage:
            return list(self.stages.values())
        if stage not in self.stages:
            raise ConfigError(f"stage: unknown stage {stage!r} (known: {', '.join(self.stages)})")
        return [self.stages[stage]]


def stack_name(stage: str, role: Role | str, layer: str) -> str:
    """Stacks are named `<stage>-<role>-<layer>`; state keys and tests rely on it."""
    return f"{stage}-{role}-{layer}"


# ---------------------------------------------------------------------------------------------- defaults

_AZ_SUFFIXES = ("a", "b", "c")
# Prod's alarm thresholds; dev and staging relax a few of them.
_ALARMS = {
    "alb_5xx_percent": 2,
    "target_p99_ms": 1000,
    "rds_cpu_percent": 80,
    "rds_free_storage_percent": 15,
    "rds_replica_lag_s": 60,
    "rds_connections": 500,
    "redis_cpu_percent": 75,
    "redis_evictions": 100,
    "redis_replication_lag_s": 5,
    "queue_oldest_message_s": 300,
    "cloudfront_5xx_percent": 2,
    "waf_blocked_requests": 1000,
}


def _defaults() -> dict[str, Any]:
    """Default values as plain data, so an override file can be merged onto them field by field."""
    small = {"instance_types": ["t4g.medium"], "min_size": 1, "desired_size": 1, "max_size": 2}
    stages: dict[str, Any] = {}
    per_stage = {
        "dev": {
            "octet": 10,
            "sizes": {
                "nat_per_az": False,
                "db_instance_class": "db.t4g.medium",
                "db_allocated_storage_gb": 20,
                "db_max_storage_gb": 100,
                "db_multi_az": False,
                "db_read_replicas": 1,
                "db_peak_read_replicas": 1,
                "db_backup_retention_days": 7,
                "cache_node_type": "cache.t4g.small",
                "secondary_cache_node_type": "cache.t4g.micro",
                "cache_nodes": 2,
                "system_nodes": {**small, "min_size": 2, "desired_size": 2, "max_size": 3},
                "app_nodes": {**small, "min_size": 2, "desired_size": 2, "max_size": 4},
                "secondary_app_nodes": small,
                "log_retention_days": 30,
                "deletion_protection": False,
            },
            "alarms": {
                **_ALARMS,
                "alb_5xx_percent": 10,
                "target_p99_ms": 3000,
                "rds_cpu_percent": 90,
                "queue_oldest_message_s": 1800,
                "cloudfront_5xx_percent": 10,
            },
            "monthly_budget_usd": 1500,
        },
        "staging": {
            "octet": 20,
            "sizes": {
                "nat_per_az": False,
                "db_instance_class": "db.t4g.large",
                "db_allocated_storage_gb": 50,
                "db_max_storage_gb": 200,
                "db_multi_az": True,
                "db_read_replicas": 1,
                "db_peak_read_replicas": 1,
                "db_backup_retention_days": 7,
                "cache_node_type": "cache.t4g.medium",
                "secondary_cache_node_type": "cache.t4g.small",
                "cache_nodes": 2,
                "system_nodes": {**small, "min_size": 2, "desired_size": 2, "max_size": 3},
                "app_nodes": {"instance_types": ["m7g.large"], "min_size": 2, "desired_size": 2, "max_size": 6},
                "secondary_app_nodes": small,
                "log_retention_days": 90,
                "deletion_protection": False,
            },
            "alarms": {**_ALARMS, "alb_5xx_percent": 5, "target_p99_ms": 2000, "queue_oldest_message_s": 900},
            "monthly_budget_usd": 2000,
        },
        "prod": {
            "octet": 30,
            "sizes": {
                "nat_per_az": True,
                "db_instance_class": "db.m7g.large",
                "db_allocated_storage_gb": 100,
                "db_max_storage_gb": 1000,
                "db_multi_az": True,
                # One replica carries the baseline's reads (the writer takes them if it fails); a second
                # joins for planned peaks.
                "db_read_replicas": 1,
                "db_peak_read_replicas": 2,
                "db_backup_retention_days": 14,
                "cache_node_type": "cache.m7g.large",
                "secondary_cache_node_type": "cache.t4g.medium",
                "cache_nodes": 2,
                "system_nodes": {**small, "min_size": 2, "desired_size": 2, "max_size": 3},
                "app_nodes": {
                    "instance_types": ["m7g.large", "m6g.large"],
                    "min_size": 3,
                    "desired_size": 3,
                    "max_size": 30,
                },
                "secondary_app_nodes": {
                    "instance_types": ["m7g.large", "m6g.large"],
                    "min_size": 1,
                    "desired_size": 1,
                    "max_size": 30,
                },
                "log_retention_days": 400,
                "deletion_protection": True,
            },
            "alarms": _ALARMS,
            "monthly_budget_usd": 5000,
        },
    }
    for name, spec in per_stage.items():
        octet = spec["octet"]
        stages[name] = {
            # azs None: the region's a, b and c zones.
            "primary": {"region": "us-east-1", "vpc_cidr": f"10.{octet}.0.0/16", "azs": None},
            "secondary": {"region": "us-west-2", "vpc_cidr": f"10.{octet + 1}.0.0/16", "azs": None},
            "sizes": spec["sizes"],
            "tags": {"owner": "platform-team", "cost_center": "ecommerce", "data_classification": "confidential"},
            "backend": {"bucket": "peakshop-terraform-state", "region": "us-east-1"},
            "alarms": spec["alarms"],
            "monthly_budget_usd": spec["monthly_budget_usd"],
            "domain": "peakshop.example.com" if name == "prod" else f"{name}.peakshop.example.com",
            "alert_emails": ["oncall@peakshop.example.com"],
            "eks_version": EKS_VERSION,
            "eks_public_access_cidrs": ["198.51.100.0/24"],  # documentation range: replace with the VPN egress
            "eks_admin_roles": ["peakshop-platform-admin", f"peakshop-{name}-deployer"],
        }
    pipeline = {
        "repository": "peakshop/peakshop",
        "branch": "main",
        "region": "us-east-1",
        "backend": {"bucket": "peakshop-terraform-state", "region": "us-east-1"},
        "tags": {"owner": "platform-team", "cost_center": "ecommerce", "data_classification": "internal"},
    }
    return {"stages": stages, "pipeline": pipeline}


# ---------------------------------------------------------------------------------------------- loading


def _merge(base: dict[str, Any], override: Mapping[str, Any], path: str) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        where = f"{path}.{key}" if path else str(key)
        if key not in base:
            raise ConfigError(f"{where}: unknown field (known: {', '.join(map(str, base)) or 'none'})")
        if isinstance(base[key], dict):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where}: expected a mapping, got {type(value).__name__}")
            merged[key] = _merge(base[key], value, where)
        else:
            merged[key] = value
    return merged


def _build(cls: type, data: Mapping[str, Any], path: str) -> Any:
    """Build a frozen dataclass from plain data, checking each field's type and naming the field on error."""
    kwargs: dict[str, Any] = {}
    hints = {f.name: f for f in dataclasses.fields(cls)}
    for name, f in hints.items():
        where = f"{path}.{name}"
        if name not in data:
            if f.default is not dataclasses.MISSING:
                continue
            raise ConfigError(f"{where}: missing")
        value = data[name]
        kind = str(f.type)
        nested = {
            "RegionConfig": RegionConfig,
            "Sizes": Sizes,
            "Tags": Tags,
            "Backend": Backend,
            "AlarmThresholds": AlarmThresholds,
            "NodeGroupSize": NodeGroupSize,
        }.get(kind)
        if nested is not None:
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where}: expected a mapping")
            kwargs[name] = _build(nested, value, where)
        elif kind.startswith("tuple[str"):
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: expected a list of strings")
            kwargs[name] = tuple(value)
        elif kind == "bool":
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: expected true or false, got {value!r}")
            kwargs[name] = value
        elif kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"{where}: expected an integer, got {value!r}")
            kwargs[name] = value
        else:
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{where}: expected a non-empty string, got {value!r}")
            kwargs[name] = value
    unknown = set(data) - set(hints)
    if unknown:
        raise ConfigError(f"{path}.{sorted(unknown)[0]}: unknown field")
    return cls(**kwargs)


def build_config(data: Mapping[str, Any]) -> PlatformConfig:
    stages_data = data.get("stages")
    if not isinstance(stages_data, Mapping) or not stages_data:
        raise ConfigError("stages: at least one stage is required")
    stages: dict[str, StageConfig] = {}
    for name, raw in stages_data.items():
        if name not in STAGE_NAMES:
            raise ConfigError(f"stages.{name}: unknown stage (known: {', '.join(STAGE_NAMES)})")
        raw = dict(raw)
        for role in ROLES:
            region_raw = dict(raw.get(role) or {})
            region = region_raw.get("region", "")
            if region_raw.get("azs") is None:
                region_raw["azs"] = [f"{region}{s}" for s in _AZ_SUFFIXES]
            raw[role] = region_raw
        stages[name] = _build(StageConfig, {"name": name, **raw}, f"stages.{name}")
    pipeline = None
    if data.get("pipeline") is not None:
        if not isinstance(data["pipeline"], Mapping):
            raise ConfigError("pipeline: expected a mapping")
        pipeline = _build(PipelineConfig, data["pipeline"], "pipeline")
        owner, _, repo = pipeline.repository.partition("/")
        if not owner or not repo or "/" in repo:
            raise ConfigError(f"pipeline.repository: expected owner/name, got {pipeline.repository!r}")
    config = PlatformConfig(stages=stages, pipeline=pipeline)
    validate(config)
    return config


def load_config(env: Mapping[str, str] | None = None) -> PlatformConfig:
    """Defaults, then the YAML file named by PEAKSHOP_CONFIG, then the region variables."""
    env = os.environ if env is None else env
    data = _defaults()
    override_path = env.get("PEAKSHOP_CONFIG")
    if override_path:
        path = Path(override_path)
        if not path.is_file():
            raise ConfigError(f"PEAKSHOP_CONFIG: no such file {override_path!r}")
        override = yaml.safe_load(path.read_text()) or {}
        if not isinstance(override, Mapping):
            raise ConfigError("PEAKSHOP_CONFIG: the file must hold a mapping")
        data = _merge(data, override, "")
    for role in ROLES:
        region = env.get(f"PEAKSHOP_{role.upper()}_REGION")
        if region:
            for stage in data["stages"].values():
                stage[role] = {**stage[role], "region": region}
    peak = env.get("PEAKSHOP_PEAK", "false")
    if peak not in ("true", "false"):
        raise ConfigError(f"PEAKSHOP_PEAK: expected true or false, got {peak!r}")
    if peak == "true":
        for stage in data["stages"].values():
            sizes = stage["sizes"]
            stage["sizes"] = {**sizes, "db_read_replicas": sizes["db_peak_read_replicas"]}
    return build_config(data)


# ---------------------------------------------------------------------------------------------- validation


def validate(config: PlatformConfig) -> None:
    """Cross-field rules that types cannot express. Raises ConfigError naming the first bad field."""
    networks: list[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network]] = []
    for stage in config.stages.values():
        base = f"stages.{stage.name}"
        if stage.primary.region == stage.secondary.region:
            raise ConfigError(f"{base}.secondary.region: must differ from the primary region ({stage.primary.region})")
        for role in ROLES:
            rc = stage.region(role)
            where = f"{base}.{role}"
            if len(rc.azs) < 2:
                raise ConfigError(f"{where}.azs: at least 2 availability zones are required, got {len(rc.azs)}")
            if len(set(rc.azs)) != len(rc.azs):
                raise ConfigError(f"{where}.azs: availability zones must be distinct")
            try:
                net = ipaddress.ip_network(rc.vpc_cidr)
            except ValueError as exc:
                raise ConfigError(f"{where}.vpc_cidr: {exc}") from None
            if net.prefixlen > 16:
                raise ConfigError(f"{where}.vpc_cidr: needs a /16 or larger to hold the subnet tiers")
            networks.append((f"{where}.vpc_cidr", net))
        _validate_cluster(stage, base)
        sizes = stage.sizes
        for group in ("system_nodes", "app_nodes", "secondary_app_nodes"):
            ng: NodeGroupSize = getattr(sizes, group)
            if not (0 < ng.min_size <= ng.desired_size <= ng.max_size) or ng.min_size == ng.max_size:
                raise ConfigError(
                    f"{base}.sizes.{group}: need 0 < min <= desired <= max and min < max, "
                    f"got {ng.min_size}/{ng.desired_size}/{ng.max_size}"
                )
            if not ng.instance_types:
                raise ConfigError(f"{base}.sizes.{group}.instance_types: at least one instance type")
        if sizes.db_read_replicas < 0:
            raise ConfigError(f"{base}.sizes.db_read_replicas: must not be negative")
        if sizes.db_peak_read_replicas < sizes.db_read_replicas:
            raise ConfigError(
                f"{base}.sizes.db_peak_read_replicas: at least db_read_replicas ({sizes.db_read_replicas}), "
                f"got {sizes.db_peak_read_replicas}"
            )
        if sizes.cache_nodes < 2:
            raise ConfigError(f"{base}.sizes.cache_nodes: Multi-AZ Redis needs at least 2 nodes")
        if sizes.db_backup_retention_days < 7:
            raise ConfigError(f"{base}.sizes.db_backup_retention_days: at least 7 days")
        _validate_alarms(stage, base)
        if stage.name == "prod":
            if sizes.db_read_replicas < 1:
                raise ConfigError(
                    f"{base}.sizes.db_read_replicas: prod needs at least 1 read replica, got {sizes.db_read_replicas}"
                )
            if sizes.db_peak_read_replicas < 2:
                raise ConfigError(
                    f"{base}.sizes.db_peak_read_replicas: prod needs at least 2 read replicas at peaks, "
                    f"got {sizes.db_peak_read_replicas}"
                )
            if not sizes.db_multi_az:
                raise ConfigError(f"{base}.sizes.db_multi_az: prod's writer must be Multi-AZ")
            if not sizes.nat_per_az:
                raise ConfigError(f"{base}.sizes.nat_per_az: prod needs a NAT gateway per AZ")
    for (name_a, a), (name_b, b) in itertools.combinations(networks, 2):
        if a.overlaps(b):
            raise ConfigError(f"{name_b}: {b} overlaps {name_a} ({a})")


def _validate_cluster(stage: StageConfig, base: str) -> None:
    if not re.fullmatch(r"1\.\d{2}", stage.eks_version):
        raise ConfigError(
            f"{base}.eks_version: expected a Kubernetes minor version like 1.34, got {stage.eks_version!r}"
        )
    for cidr in stage.eks_public_access_cidrs:
        try:
            net = ipaddress.ip_network(cidr)
        except ValueError as exc:
            raise ConfigError(f"{base}.eks_public_access_cidrs: {exc}") from None
        if net.prefixlen < 8:
            raise ConfigError(f"{base}.eks_public_access_cidrs: {cidr} is too wide; name the VPN or office ranges")
    if not stage.eks_admin_roles:
        raise ConfigError(f"{base}.eks_admin_roles: at least one admin role, or nobody can manage the cluster")


def _validate_alarms(stage: StageConfig, base: str) -> None:
    for name, value in dataclasses.asdict(stage.alarms).items():
        if value <= 0:
            raise ConfigError(f"{base}.alarms.{name}: must be positive, got {value}")
        if name.endswith("_percent") and value > 100:
            raise ConfigError(f"{base}.alarms.{name}: a percentage, got {value}")
    if stage.monthly_budget_usd <= 0:
        raise ConfigError(f"{base}.monthly_budget_usd: must be positive, got {stage.monthly_budget_usd}")
