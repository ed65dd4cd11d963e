"""Pricing rules keyed by Terraform resource type. Each rule turns one resource (and the usage profile) into
line items; a type with no rule and not in FREE_TYPES is reported as unpriced, never counted as zero."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cost.hcl import Resource
from cost.prices import PriceError, PriceTable
from cost.profiles import DAYS_PER_MONTH, HOURS_PER_MONTH, NodeBounds, UsageProfile
from stacks.config import PEAK_REPLICAS_TAG

EKS_DEFAULT_INSTANCE_TYPE = "t3.medium"  # AWS default when a managed node group names none
EKS_DEFAULT_DISK_GB = 20  # AWS default node volume when no launch template sets one
LAMBDA_AVG_SECONDS = 0.2  # assumed average invocation duration
GB = 1024.0 * 1024.0  # KB per GB
# Replicas added for a planned peak are created this long before it (creation and catch-up take hours).
PEAK_REPLICA_LEAD_HOURS = 48

# Types that cost nothing themselves, each with why (their usage is priced elsewhere or is free).
FREE_TYPES: dict[str, str] = {
    **{
        t: "configuration or identity, no charge"
        for t in (
            "aws_iam_role",
            "aws_iam_policy",
            "aws_iam_role_policy",
            "aws_iam_role_policy_attachment",
            "aws_iam_policy_attachment",
            "aws_iam_instance_profile",
            "aws_iam_openid_connect_provider",
            "aws_iam_service_linked_role",
            "aws_kms_alias",
            "aws_kms_grant",
            "aws_kms_key_policy",
            "aws_eks_addon",
            "aws_eks_access_entry",
            "aws_eks_access_policy_association",
            "aws_eks_pod_identity_association",
            "aws_eks_identity_provider_config",
            "aws_acm_certificate",
            "aws_acm_certificate_validation",
            "aws_ssm_parameter",
            "aws_ce_anomaly_monitor",
            "aws_ce_anomaly_subscription",
            "aws_budgets_budget",
            "aws_sns_topic_policy",
            "aws_sns_topic_subscription",
            "aws_cloudwatch_event_target",
            "aws_cloudwatch_log_resource_policy",
            "aws_cloudwatch_log_subscription_filter",
            "aws_cloudwatch_log_data_protection_policy",
        )
    },
    **{
        t: "network configuration, no charge"
        for t in (
            "aws_vpc_dhcp_options",
            "aws_vpc_dhcp_options_association",
            "aws_subnet",
            "aws_route",
            "aws_route_table",
            "aws_route_table_association",
            "aws_main_route_table_association",
            "aws_default_route_table",
            "aws_internet_gateway",
            "aws_egress_only_internet_gateway",
            "aws_security_group",
            "aws_security_group_rule",
            "aws_default_security_group",
            "aws_vpc_security_group_ingress_rule",
            "aws_vpc_security_group_egress_rule",
            "aws_network_acl",
            "aws_network_acl_rule",
            "aws_default_network_acl",
            "aws_vpc_endpoint_route_table_association",
            "aws_route53_record",
            "aws_lb_listener",
            "aws_lb_listener_rule",
            "aws_lb_listener_certificate",
            "aws_lb_target_group",
            "aws_lb_target_group_attachment",
            "aws_wafv2_web_acl_association",
            "aws_wafv2_ip_set",
            "aws_wafv2_regex_pattern_set",
            "aws_cloudfront_origin_access_control",
            "aws_cloudfront_cache_policy",
            "aws_cloudfront_origin_request_policy",
            "aws_cloudfront_response_headers_policy",
        )
    },
    **{
        t: "settings of a priced resource (its parent carries the cost)"
        for t in (
            "aws_db_subnet_group",
            "aws_db_parameter_group",
            "aws_db_option_group",
            "aws_elasticache_subnet_group",
            "aws_elasticache_parameter_group",
            "aws_elasticache_user",
            "aws_elasticache_user_group",
            "aws_elasticache_user_group_association",
            "aws_launch_template",
            "aws_s3_bucket_ownership_controls",
            "aws_s3_bucket_public_access_block",
            "aws_s3_bucket_versioning",
            "aws_s3_bucket_server_side_encryption_configuration",
            "aws_s3_bucket_lifecycle_configuration",
            "aws_s3_bucket_policy",
            "aws_s3_bucket_logging",
            "aws_s3_bucket_notification",
            "aws_s3_bucket_cors_configuration",
            "aws_s3_bucket_object_lock_configuration",
            "aws_sqs_queue_policy",
            "aws_sqs_queue_redrive_policy",
            "aws_sqs_queue_redrive_allow_policy",
            "aws_secretsmanager_secret_version",
            "aws_secretsmanager_secret_policy",
            "aws_ecr_lifecycle_policy",
            "aws_ecr_repository_policy",
            "aws_backup_selection",
            "aws_backup_vault_policy",
            "aws_backup_vault_notifications",
            "aws_backup_vault_lock_configuration",
            "aws_wafv2_web_acl_logging_configuration",
            "aws_sns_topic_data_protection_policy",
        )
    },
    "aws_flow_log": "flow-log delivery is priced as ingestion on its CloudWatch log group",
    "aws_cloudwatch_log_delivery": "vended-log delivery is priced as ingestion on its destination log group",
    "aws_cloudwatch_log_delivery_source": "vended-log delivery is priced as ingestion on its destination log group",
    "aws_cloudwatch_log_delivery_destination": "vended-log delivery is priced as ingestion on its destination",
    "aws_backup_vault": "recovery-point storage is priced on the aws_backup_plan that writes it",
    "aws_sns_topic": "alert fan-out stays inside SNS's free publishes and email deliveries",
    "aws_cloudwatch_event_rule": "AWS service events on the default bus are free",
    "aws_wafv2_rule_group": "billed as one rule of each web ACL that references it",
    "aws_elasticache_global_replication_group": "its member replication groups carry the node cost",
    "aws_sfn_activity": "no charge until used by a state machine",
    "aws_codestarconnections_connection": "connections to GitHub are free",
    "aws_ecr_repository_creation_template": "replicated repositories' storage is priced on the replication rule",
}


@dataclass(frozen=True)
class LineItem:
    resource: Resource
    item: str
    quantity: float
    unit: str
    unit_usd: float
    price_key: str
    region: str = ""  # where it is billed, when not the resource's region (a copy into another region)

    @property
    def monthly_usd(self) -> float:
        return self.quantity * self.unit_usd

    @property
    def billed_region(self) -> str:
        return self.region or self.resource.region


@dataclass
class Context:
    """What a rule may look at besides its resource: the profile, the price tables, the whole stage."""

    profile: UsageProfile
    tables: dict[str, PriceTable]
    resources: list[Resource]
    _index: dict[tuple[str, str, str], Resource] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._index = {(r.stack, r.type, r.name): r for r in self.resources}

    def usd(self, region: str, key: str) -> float:
        if region not in self.tables:
            raise PriceError(f"no price table for region {region}")
        return self.tables[region].usd(key)

    def same_stack(self, r: Resource, rtype: str) -> list[Resource]:
        return [o for o in self.resources if o.stack == r.stack and o.type == rtype]

    def same_region(self, r: Resource, rtype: str) -> list[Resource]:
        return [o for o in self.resources if o.region == r.region and o.type == rtype]

    def in_stage(self, rtype: str) -> list[Resource]:
        return [o for o in self.resources if o.type == rtype]

    def resolve(self, expr: Any, r: Resource, rtype: str) -> Resource | None:
        """The resource of type `rtype` an expression refers to, in this stack or through remote state."""
        if not isinstance(expr, str):
            return None
        local = re.search(r"\$\{" + re.escape(rtype) + r"\.([^.}]+)\.", expr)
        if local:
            return self._index.get((r.stack, rtype, local.group(1)))
        remote = re.search(r"cross-stack-reference-input-([a-z0-9-]+)\.outputs\.cross-stack-output-([^}.\s]+)", expr)
        if remote:
            stack, tail = remote.groups()
            candidates = [
                o for o in self.resources if o.stack == stack and o.type == rtype and tail.startswith(rtype + o.name)
            ]
            return max(candidates, key=lambda o: len(o.name), default=None)
        return None


def _line(
    r: Resource, ctx: Context, item: str, quantity: float, unit: str, key: str, factor: float = 1.0, region: str = ""
) -> LineItem:
    return LineItem(r, item, quantity, unit, ctx.usd(region or r.region, key) * factor, key, region)


def _first(block: Any) -> dict[str, Any]:
    if isinstance(block, list):
        return block[0] if block and isinstance(block[0], dict) else {}
    return block if isinstance(block, dict) else {}


def _blocks(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


# ------------------------------------------------------------------------------------------------ compute


def eks_cluster(r: Resource, ctx: Context) -> list[LineItem]:
    return [_line(r, ctx, "control plane", HOURS_PER_MONTH, "cluster-hours", "eks_cluster_hour")]


def _scales_with_traffic(name: str) -> bool:
    """System node groups (add-ons, controllers) keep their size; the others follow the load."""
    return "system" not in name


def _instance_lines(
    r: Resource, ctx: Context, bounds: NodeBounds, instance_type: str, spot: bool, disk_gb: float, name: str
) -> list[LineItem]:
    p = ctx.profile
    node_hours, peak = p.node_hours(bounds, r.stage, r.role, _scales_with_traffic(name))
    discount = 1 - ctx.usd(r.region, "ec2_spot_discount") if spot else 1.0
    capped = " (capped at max)" if peak == bounds.maximum and peak > bounds.desired else ""
    what = (
        f"{instance_type}{' spot' if spot else ''}: {bounds.desired} desired, "
        f"{peak} at peak{capped} (min {bounds.minimum}, max {bounds.maximum})"
    )
    return [
        _line(r, ctx, what, node_hours, "instance-hours", f"ec2_hour:{instance_type}", discount),
        _line(
            r,
            ctx,
            f"node volumes {disk_gb:g} GB gp3",
            node_hours / HOURS_PER_MONTH * disk_gb,
            "GB-months",
            "ebs_gp3_gb_month",
        ),
    ]


def eks_node_group(r: Resource, ctx: Context) -> list[LineItem]:
    scaling = _first(r.attrs.get("scaling_config"))
    bounds = NodeBounds(int(scaling["min_size"]), int(scaling["desired_size"]), int(scaling["max_size"]))
    types = r.attrs.get("instance_types") or [EKS_DEFAULT_INSTANCE_TYPE]
    spot = str(r.attrs.get("capacity_type", "ON_DEMAND")).upper() == "SPOT"
    disk = float(r.attrs.get("disk_size", EKS_DEFAULT_DISK_GB))
    template = ctx.resolve(_first(r.attrs.get("launch_template")).get("id"), r, "aws_launch_template")
    if template is not None:
        ebs = _first(_first(template.attrs.get("block_device_mappings")).get("ebs"))
        disk = float(ebs.get("volume_size", disk))
    return _instance_lines(r, ctx, bounds, str(types[0]), spot, disk, str(r.attrs.get("node_group_name", r.name)))


def autoscaling_group(r: Resource, ctx: Context) -> list[LineItem]:
    a = r.attrs
    bounds = NodeBounds(int(a["min_size"]), int(a.get("desired_capacity", a["min_size"])), int(a["max_size"]))
    template = ctx.resolve(_first(a.get("launch_template")).get("id", ""), r, "aws_launch_template")
    if template is None or "instance_type" not in template.attrs:
        raise PriceError("instance type not resolvable from the launch template")
    return _instance_lines(
        r, ctx, bounds, str(template.attrs["instance_type"]), False, EKS_DEFAULT_DISK_GB, str(a.get("name", r.name))
    )


def ebs_volume(r: Resource, ctx: Context) -> list[LineItem]:
    return [_line(r, ctx, "volume (gp3 rate)", float(r.attrs.get("size", 0)), "GB-months", "ebs_gp3_gb_month")]


def ecr_repository(r: Resource, ctx: Context) -> list[LineItem]:
    return [_line(r, ctx, "image storage", ctx.profile.ecr_gb_per_repository, "GB-months", "ecr_gb_month")]


def ecr_replication(r: Resource, ctx: Context) -> list[LineItem]:
    repos = len(ctx.same_region(r, "aws_ecr_repository"))
    gb = repos * ctx.profile.ecr_gb_per_repository
    lines = [_line(r, ctx, f"replicating {repos} repositories", gb, "GB", "transfer_inter_region_gb")]
    for rule in _blocks(r.attrs.get("replication_configuration")):
        for inner in _blocks(rule.get("rule")):
            for dest in _blocks(inner.get("destination")):
                region = str(dest.get("region", ""))
                if region and region in ctx.tables:
                    lines.append(
                        _line(r, ctx, f"replica storage in {region}", gb, "GB-months", "ecr_gb_month", region=region)
                    )
    return lines


def lambda_function(r: Resource, ctx: Context) -> list[LineItem]:
    invocations = ctx.profile.lambda_invocations_per_month
    memory_gb = float(r.attrs.get("memory_size", 128)) / 1024
    return [
        _line(r, ctx, "requests", invocations / 1e6, "million requests", "lambda_million_requests"),
        _line(
            r,
            ctx,
            f"compute at {LAMBDA_AVG_SECONDS}s",
            invocations * LAMBDA_AVG_SECONDS * memory_gb,
            "GB-seconds",
            "lambda_gb_second",
        ),
    ]


# ------------------------------------------------------------------------------------------------ databases


def _source_db(r: Resource, ctx: Context) -> Resource | None:
    source = ctx.resolve(r.attrs.get("replicate_source_db"), r, "aws_db_instance")
    if source is None and "replicate_source_db" in r.attrs:
        writers = [o for o in ctx.in_stage("aws_db_instance") if "allocated_storage" in o.attrs]
        source = writers[0] if len(writers) == 1 else None
    return source


def db_instance(r: Resource, ctx: Context) -> list[LineItem]:
    a = r.attrs
    p = ctx.profile
    cls = str(a["instance_class"])
    multi_az = _truthy(a.get("multi_az"))
    az_factor = ctx.usd(r.region, "rds_multi_az_factor") if multi_az else 1.0
    source = _source_db(r, ctx) if "replicate_source_db" in a else None
    storage = float(a.get("allocated_storage") or (source.attrs.get("allocated_storage", 0) if source else 0))
    kind = "Multi-AZ" if multi_az else "single-AZ"
    role = "cross-region replica" if source and source.region != r.region else "replica" if source else "writer"
    lines = [
        _line(r, ctx, f"{cls} {kind} {role}", HOURS_PER_MONTH, "instance-hours", f"rds_hour:{cls}", az_factor),
        _line(r, ctx, f"gp3 storage {storage:g} GB {kind}", storage, "GB-months", "rds_gp3_gb_month", az_factor),
    ]
    retention = float(a.get("backup_retention_period", 0) or 0)
    if retention > 0:
        # Backup storage up to the provisioned size is free; the daily change kept for `retention` days is not.
        gb = p.db_change_gb_per_day * p.data_share(r.stage) * retention
        lines.append(_line(r, ctx, f"backups beyond free ({retention:g} days)", gb, "GB-months", "rds_backup_gb_month"))
    if source and source.region != r.region:
        gb = p.db_change_gb_per_day * DAYS_PER_MONTH * p.data_share(r.stage)
        lines.append(
            _line(
                r, ctx, f"replication from {source.region}", gb, "GB", "transfer_inter_region_gb", region=source.region
            )
        )
    if _truthy(a.get("manage_master_user_password")):
        lines.append(_line(r, ctx, "RDS-managed master password secret", 1, "secrets", "secret_month"))
    return lines + _peak_replicas(r, ctx, cls, storage)


def _peak_replicas(r: Resource, ctx: Context, cls: str, storage: float) -> list[LineItem]:
    """The read replicas a writer's tag asks for during planned peaks, beyond those it always has: priced for
    the profile's peak hours plus the lead time to build them."""
    peak = int((r.attrs.get("tags") or {}).get(PEAK_REPLICAS_TAG, 0))
    hours = ctx.profile.peak_hours_per_month
    if not peak or not hours:
        return []
    always = sum(
        1
        for o in ctx.in_stage("aws_db_instance")
        if o.region == r.region and "replicate_source_db" in o.attrs and _source_db(o, ctx) is r
    )
    extra = peak - always
    if extra <= 0:
        return []
    share = (hours + PEAK_REPLICA_LEAD_HOURS) / HOURS_PER_MONTH
    item = f"{extra} more single-AZ replica(s) for the peak ({hours:g} h + {PEAK_REPLICA_LEAD_HOURS} h lead)"
    return [
        _line(r, ctx, item, extra * share * HOURS_PER_MONTH, "instance-hours", f"rds_hour:{cls}"),
        _line(
            r,
            ctx,
            f"gp3 storage of the peak replica(s) {storage:g} GB",
            extra * share * storage,
            "GB-months",
            "rds_gp3_gb_month",
        ),
    ]


def _cache_nodes(r: Resource, ctx: Context, nodes: int, node_type: str) -> list[LineItem]:
    """Valkey nodes have their own (lower) price; Redis OSS and Memcached share one."""
    prefix = "elasticache_valkey_hour" if r.attrs.get("engine") == "valkey" else "elasticache_hour"
    return [_line(r, ctx, f"{nodes} x {node_type}", nodes * HOURS_PER_MONTH, "node-hours", f"{prefix}:{node_type}")]


def elasticache_replication_group(r: Resource, ctx: Context) -> list[LineItem]:
    a = r.attrs
    if "num_cache_clusters" in a:
        nodes = int(a["num_cache_clusters"])
    else:
        nodes = int(a.get("num_node_groups", 1)) * (int(a.get("replicas_per_node_group", 0)) + 1)
    node_type = str(a["node_type"])
    return _cache_nodes(r, ctx, nodes, node_type)


def elasticache_cluster(r: Resource, ctx: Context) -> list[LineItem]:
    if "replication_group_id" in r.attrs and "node_type" not in r.attrs:
        return []  # a member of a replication group, which carries the cost
    nodes = int(r.attrs.get("num_cache_nodes", 1))
    node_type = str(r.attrs["node_type"])
    return _cache_nodes(r, ctx, nodes, node_type)


# ------------------------------------------------------------------------------------------------ network


def nat_gateway(r: Resource, ctx: Context) -> list[LineItem]:
    count = len(ctx.same_stack(r, "aws_nat_gateway"))
    gb = ctx.profile.monthly(ctx.profile.nat_gb_per_day, r.stage, r.role) / max(count, 1)
    return [
        _line(r, ctx, "gateway", HOURS_PER_MONTH, "gateway-hours", "nat_hour"),
        _line(r, ctx, "data processed", gb, "GB", "nat_gb"),
    ]


def eip(r: Resource, ctx: Context) -> list[LineItem]:
    return [_line(r, ctx, "public IPv4 address", HOURS_PER_MONTH, "address-hours", "public_ipv4_hour")]


def vpc_endpoint(r: Resource, ctx: Context) -> list[LineItem]:
    kind = str(r.attrs.get("vpc_endpoint_type", "Gateway"))
    if kind == "Gateway":
        return []  # S3 and DynamoDB gateway endpoints are free
    azs = max(len(r.attrs.get("subnet_ids") or []), 1)
    interfaces = [o for o in ctx.same_stack(r, "aws_vpc_endpoint") if o.attrs.get("vpc_endpoint_type") != "Gateway"]
    gb = ctx.profile.monthly(ctx.profile.vpc_endpoint_gb_per_day, r.stage, r.role) / max(len(interfaces), 1)
    service = str(r.attrs.get("service_name", "")).rsplit(".", 1)[-1]
    return [
        _line(
            r,
            ctx,
            f"{kind} endpoint {service} in {azs} AZs",
            azs * HOURS_PER_MONTH,
            "endpoint-AZ-hours",
            "vpce_interface_hour",
        ),
        _line(r, ctx, "data processed", gb, "GB", "vpce_gb"),
    ]


def vpc(r: Resource, ctx: Context) -> list[LineItem]:
    gb = ctx.profile.monthly(ctx.profile.inter_az_gb_per_day, r.stage, r.role)
    return [_line(r, ctx, "inter-AZ transfer (both directions)", 2 * gb, "GB", "transfer_inter_az_gb")]


def _cdn_requests(ctx: Context, stage: str) -> float:
    p = ctx.profile
    return p.monthly(p.page_views_per_day * p.requests_per_page_view, stage, "primary")


def _cdn_gb(ctx: Context, stage: str) -> float:
    p = ctx.profile
    return p.monthly(p.page_views_per_day * p.page_weight_kb / GB + p.media_gb_served_per_day, stage, "primary")


def load_balancer(r: Resource, ctx: Context) -> list[LineItem]:
    p = ctx.profile
    network = str(r.attrs.get("load_balancer_type", "application")) == "network"
    prefix = "nlb" if network else "alb"
    balancers = len(ctx.same_region(r, "aws_lb"))
    miss = 1 - p.cdn_cache_hit_ratio
    share = p.traffic_share(r.stage, r.role) / max(p.traffic_share(r.stage, "primary"), 1e-12)
    requests_h = _cdn_requests(ctx, r.stage) * miss * share / balancers / HOURS_PER_MONTH
    gb_h = _cdn_gb(ctx, r.stage) * miss * share / balancers / HOURS_PER_MONTH
    lcu = max(requests_h / 3600 * p.alb_new_connections_per_request / 25, gb_h)  # 25 new conn/s or 1 GB/h per LCU
    lines = [
        _line(r, ctx, f"{prefix.upper()} hours", HOURS_PER_MONTH, "lb-hours", f"{prefix}_hour"),
        _line(r, ctx, f"capacity units ({lcu:.3f} avg)", lcu * HOURS_PER_MONTH, "LCU-hours", f"{prefix}_lcu_hour"),
    ]
    if not _truthy(r.attrs.get("internal")):
        azs = max(len(r.attrs.get("subnets") or _blocks(r.attrs.get("subnet_mapping"))), 2)
        lines.append(
            _line(r, ctx, f"public IPv4 in {azs} AZs", azs * HOURS_PER_MONTH, "address-hours", "public_ipv4_hour")
        )
    return lines


def cloudfront_distribution(r: Resource, ctx: Context) -> list[LineItem]:
    count = len([d for d in ctx.in_stage("aws_cloudfront_distribution") if d.attrs.get("enabled") is not False])
    count = max(count, 1)
    return [
        _line(r, ctx, "data out (US/EU)", _cdn_gb(ctx, r.stage) / count, "GB", "cloudfront_gb"),
        _line(
            r, ctx, "HTTPS requests", _cdn_requests(ctx, r.stage) / count / 1e4, "10k requests", "cloudfront_https_10k"
        ),
    ]


def cloudfront_function(r: Resource, ctx: Context) -> list[LineItem]:
    """Upper bound: every CloudFront request of the stage runs the function."""
    invocations = _cdn_requests(ctx, r.stage)
    return [
        _line(
            r,
            ctx,
            "invocations (at most every request)",
            invocations / 1e6,
            "million invocations",
            "cloudfront_function_million",
        )
    ]


def _waf_rules(a: dict[str, Any]) -> int:
    rules = _blocks(a.get("rule"))
    if not rules and isinstance(a.get("rule_json"), str):
        try:
            rules = json.loads(a["rule_json"])
        except ValueError:
            rules = []
    return len(rules)


def wafv2_web_acl(r: Resource, ctx: Context) -> list[LineItem]:
    p = ctx.profile
    cloudfront = str(r.attrs.get("scope", "REGIONAL")).upper() == "CLOUDFRONT"
    peers = [
        w
        for w in ctx.in_stage("aws_wafv2_web_acl")
        if (str(w.attrs.get("scope", "")).upper() == "CLOUDFRONT") == cloudfront
    ]
    requests = _cdn_requests(ctx, r.stage) * (1.0 if cloudfront else 1 - p.cdn_cache_hit_ratio)
    if not cloudfront:
        requests *= p.traffic_share(r.stage, r.role) / max(p.traffic_share(r.stage, "primary"), 1e-12)
    rules = _waf_rules(r.attrs)
    return [
        _line(r, ctx, "web ACL", 1, "ACL-months", "waf_acl_month"),
        _line(r, ctx, f"{rules} rules", rules, "rule-months", "waf_rule_month"),
        _line(
            r,
            ctx,
            "inspected requests",
            requests / max(len(peers), 1) / 1e6,
            "million requests",
            "waf_million_requests",
        ),
    ]


# ------------------------------------------------------------------------------------------------ storage


def _bucket_name(r: Resource) -> str:
    return str(r.attrs.get("bucket") or r.attrs.get("bucket_prefix") or r.name)


def _lifecycle(r: Resource, ctx: Context) -> tuple[list[tuple[float, str]], float | None]:
    """(transitions [(days, class)], expiration days) of the bucket's first enabled lifecycle rule."""
    for config in ctx.same_stack(r, "aws_s3_bucket_lifecycle_configuration"):
        if ctx.resolve(config.attrs.get("bucket"), config, "aws_s3_bucket") != r:
            continue
        for rule in _blocks(config.attrs.get("rule")):
            if str(rule.get("status", "Enabled")) != "Enabled":
                continue
            transitions = sorted(
                (float(t["days"]), str(t["storage_class"])) for t in _blocks(rule.get("transition")) if "days" in t
            )
            expiry = _first(rule.get("expiration")).get("days")
            return transitions, float(expiry) if expiry is not None else None
    return [], None


def storage_by_class(
    ingest_gb_per_day: float, horizon_days: float, transitions: list[tuple[float, str]], expiry: float | None
) -> dict[str, float]:
    """GB held in each storage class by a bucket written at a steady rate for `horizon_days` days."""
    end = min(horizon_days, expiry) if expiry is not None else horizon_days
    stages = [(0.0, "STANDARD"), *transitions]
    held: dict[str, float] = {}
    for index, (start, cls) in enumerate(stages):
        stop = stages[index + 1][0] if index + 1 < len(stages) else end
        days = max(0.0, min(stop, end) - start)
        if days:
            held[cls] = held.get(cls, 0.0) + ingest_gb_per_day * days
    return held


def s3_bucket(r: Resource, ctx: Context) -> list[LineItem]:
    p = ctx.profile
    ingest = p.keyed("bucket_ingest_gb_per_day", _bucket_name(r)) * p.data_share(r.stage)
    transitions, expiry = _lifecycle(r, ctx)
    held = storage_by_class(ingest, p.storage_horizon_days, transitions, expiry)
    return [_line(r, ctx, f"{cls} storage", gb, "GB-months", f"s3_gb_month:{cls}") for cls, gb in held.items()] or [
        _line(r, ctx, "STANDARD storage", 0.0, "GB-months", "s3_gb_month:STANDARD")
    ]


def s3_replication(r: Resource, ctx: Context) -> list[LineItem]:
    p = ctx.profile
    source = ctx.resolve(r.attrs.get("bucket"), r, "aws_s3_bucket")
    name = _bucket_name(source) if source else str(r.attrs.get("bucket", ""))
    gb = p.keyed("bucket_ingest_gb_per_day", name) * p.data_share(r.stage) * DAYS_PER_MONTH
    lines = []
    for rule in _blocks(r.attrs.get("rule")):
        if str(rule.get("status", "Enabled")) != "Enabled":
            continue
        dest = ctx.resolve(_first(rule.get("destination")).get("bucket"), r, "aws_s3_bucket")
        if dest is None or dest.region != r.region:
            lines.append(
                _line(r, ctx, f"replication of {rule.get('id', 'rule')}", gb, "GB", "transfer_inter_region_gb")
            )
    return lines


def _protected(r: Resource, ctx: Context) -> list[tuple[str, float, float, float]]:
    """(price key, full GB, GB changed per day, GB new per day) of what the plan's selections back up.

    Without a selection the plan is assumed to protect the region's database writers."""
    p = ctx.profile
    found: list[tuple[str, float, float, float]] = []
    change = p.db_change_gb_per_day * p.data_share(r.stage)
    for selection in ctx.same_stack(r, "aws_backup_selection"):
        if ctx.resolve(selection.attrs.get("plan_id"), selection, "aws_backup_plan") != r:
            continue
        for expr in selection.attrs.get("resources") or []:
            db = ctx.resolve(expr, selection, "aws_db_instance")
            bucket = ctx.resolve(expr, selection, "aws_s3_bucket")
            if db is not None:
                found.append(("backup_gb_month", float(db.attrs.get("allocated_storage", 0)), change, change))
            elif bucket is not None:
                # Buckets are written once and read (objects are not rewritten): the recovery points hold
                # the bucket's current size at the backup rate, whatever S3 class the objects sit in.
                ingest = p.keyed("bucket_ingest_gb_per_day", _bucket_name(bucket)) * p.data_share(r.stage)
                transitions, expiry = _lifecycle(bucket, ctx)
                held = sum(storage_by_class(ingest, p.storage_horizon_days, transitions, expiry).values())
                found.append(("backup_s3_gb_month", held, 0.0, ingest))
    if not found:
        for db in ctx.in_stage("aws_db_instance"):
            if db.region == r.region and "replicate_source_db" not in db.attrs:
                found.append(("backup_gb_month", float(db.attrs.get("allocated_storage", 0)), change, change))
    return found


def backup_plan(r: Resource, ctx: Context) -> list[LineItem]:
    """Recovery points, per vault they are kept in (the rule's target vault, each copy action's destination).
    AWS Backup stores the first backup of a resource in full and every later one as an increment, whichever rule
    made it (docs.aws.amazon.com/aws-backup/latest/devguide/about-backup-plans.html), so the rules writing to one
    vault share a single full copy and keep the daily change for the longest of their retentions; a copy into
    the other region transfers what is new once."""
    protected = _protected(r, ctx)
    other_regions = sorted({o.region for o in ctx.resources} - {r.region})
    vaults: dict[tuple[str, str], list[tuple[str, float]]] = {}  # (region, vault) -> [(rule, retention days)]
    for rule in _blocks(r.attrs.get("rule")):
        retention = float(_first(rule.get("lifecycle")).get("delete_after", 35))
        name = str(rule.get("rule_name", "rule"))
        vaults.setdefault((r.region, str(rule.get("target_vault_name", ""))), []).append((name, retention))
        for copy in _blocks(rule.get("copy_action")):
            if other_regions:
                keep = float(_first(copy.get("lifecycle")).get("delete_after", retention))
                vault = str(copy.get("destination_vault_arn", ""))
                vaults.setdefault((other_regions[0], vault), []).append((name, keep))
    lines = []
    for (region, _vault), rules in vaults.items():
        names = "+".join(dict.fromkeys(name for name, _ in rules))
        longest = max(days for _, days in rules)
        for key in sorted({item[0] for item in protected}):
            kind = "S3" if "s3" in key else "RDS"
            items = [(full, change, new) for k, full, change, new in protected if k == key]
            stored = sum(full + change * longest for full, change, _ in items)
            if region == r.region:
                item = f"{names}: {kind} recovery points kept {longest:g} days"
                lines.append(_line(r, ctx, item, stored, "GB-months", key))
                continue
            monthly_new = sum(new for _, _, new in items) * DAYS_PER_MONTH
            lines.append(
                _line(r, ctx, f"{names}: {kind} copy to {region}", monthly_new, "GB", "transfer_inter_region_gb")
            )
            item = f"{names}: {kind} copies kept {longest:g} days in {region}"
            lines.append(_line(r, ctx, item, stored, "GB-months", key, region=region))
    return lines


# ------------------------------------------------------------------------------------------------ messaging


def sqs_queue(r: Resource, ctx: Context) -> list[LineItem]:
    p = ctx.profile
    fifo = _truthy(r.attrs.get("fifo_queue"))
    key = "sqs_million:fifo" if fifo else "sqs_million:standard"
    name = str(r.attrs.get("name", r.name))
    if name.endswith("-dlq") or name.endswith("-dlq.fifo"):
        return [_line(r, ctx, "dead-letter queue (no consumers)", 0.0, "million requests", key)]
    queues = [
        q
        for q in ctx.same_stack(r, "aws_sqs_queue")
        if not str(q.attrs.get("name", "")).rsplit(".", 1)[0].endswith("-dlq")
    ]
    messages = p.monthly(p.orders_per_day * p.sqs_messages_per_order, r.stage, r.role) / max(len(queues), 1)
    wait = float(r.attrs.get("receive_wait_time_seconds", 0) or 0)
    polls = p.sqs_pollers_per_queue * HOURS_PER_MONTH * 3600 / max(wait, 1.0)
    return [
        _line(r, ctx, "send + receive + delete", 3 * messages / 1e6, "million requests", key),
        _line(
            r,
            ctx,
            f"long polls ({p.sqs_pollers_per_queue:g} consumers, {wait:g}s wait)",
            polls / 1e6,
            "million requests",
            key,
        ),
    ]


# ------------------------------------------------------------------------------------------------ observability


def metric_alarm(r: Resource, ctx: Context) -> list[LineItem]:
    queries = _blocks(r.attrs.get("metric_query"))
    metrics = sum(1 for q in queries if "metric" in q) or 1
    if any("ANOMALY_DETECTION_BAND" in str(q.get("expression", "")) for q in queries):
        metrics *= 3
    high_res = float(r.attrs.get("period", 60) or 60) < 60
    key = "cw_alarm_high_res_month" if high_res else "cw_alarm_month"
    return [_line(r, ctx, f"alarm over {metrics} metric(s)", metrics, "alarm-metric-months", key)]


def composite_alarm(r: Resource, ctx: Context) -> list[LineItem]:
    return [_line(r, ctx, "composite alarm", 1, "alarm-months", "cw_composite_alarm_month")]


def dashboard(r: Resource, ctx: Context) -> list[LineItem]:
    return [_line(r, ctx, "dashboard", 1, "dashboard-months", "cw_dashboard_month")]


def log_metric_filter(r: Resource, ctx: Context) -> list[LineItem]:
    metrics = len(_blocks(r.attrs.get("metric_transformation"))) or 1
    return [_line(r, ctx, "custom metric from log filter", metrics, "metric-months", "cw_custom_metric_month")]


def _waf_log_filtered(r: Resource, ctx: Context) -> bool:
    """A WAF logging configuration writes into this group and drops by default (keeps what a rule acted on)."""
    for config in ctx.same_stack(r, "aws_wafv2_web_acl_logging_configuration"):
        targets = [
            ctx.resolve(e, config, "aws_cloudwatch_log_group")
            for e in config.attrs.get("log_destination_configs") or []
        ]
        if r in targets:
            return str(_first(config.attrs.get("logging_filter")).get("default_behavior", "KEEP")).upper() == "DROP"
    return False


def log_group(r: Resource, ctx: Context) -> list[LineItem]:
    p = ctx.profile
    name = str(r.attrs.get("name", r.name))
    region_share = 1.0 if r.role == "primary" else p.secondary_log_share
    per_day = p.keyed("log_ingest_gb_per_day", name) * p.data_share(r.stage) * region_share * p.volume_factor
    if _waf_log_filtered(r, ctx):
        per_day *= p.waf_logged_share
    retention = float(r.attrs.get("retention_in_days", 0) or 0) or p.storage_horizon_days
    stored = per_day * min(retention, p.storage_horizon_days) * p.log_compression_ratio
    return [
        _line(r, ctx, "ingestion", per_day * DAYS_PER_MONTH, "GB", "cw_logs_ingest_gb"),
        _line(r, ctx, f"storage ({retention:g}-day retention)", stored, "GB-months", "cw_logs_storage_gb_month"),
    ]


def _records_data_events(a: dict[str, Any]) -> bool:
    for selector in _blocks(a.get("event_selector")):
        if _blocks(selector.get("data_resource")):
            return True
    for selector in _blocks(a.get("advanced_event_selector")):
        for fs in _blocks(selector.get("field_selector")):
            if fs.get("field") == "eventCategory" and "Data" in (fs.get("equals") or []):
                return True
    return False


def cloudtrail(r: Resource, ctx: Context) -> list[LineItem]:
    p = ctx.profile
    trails = sorted(ctx.in_stage("aws_cloudtrail"), key=lambda t: t.address)
    lines = []
    management = all(
        s.get("include_management_events", True) is not False for s in _blocks(r.attrs.get("event_selector"))
    )
    if management:
        extra = trails.index(r) > 0  # the first copy of management events is free
        events = p.cloudtrail_management_events_per_day * DAYS_PER_MONTH * p.data_share(r.stage) if extra else 0.0
        what = "management events (additional copy)" if extra else "management events (first copy free)"
        lines.append(_line(r, ctx, what, events / 1e5, "100k events", "cloudtrail_mgmt_100k"))
    if _records_data_events(r.attrs):
        events = p.monthly(p.cloudtrail_data_events_per_day, r.stage, "primary")
        lines.append(_line(r, ctx, "data events", events / 1e5, "100k events", "cloudtrail_data_100k"))
    return lines


def budget_action(r: Resource, ctx: Context) -> list[LineItem]:
    actions = sorted(ctx.in_stage("aws_budgets_budget_action"), key=lambda t: t.address)
    days = 0.0 if actions.index(r) < 2 else DAYS_PER_MONTH  # two action-enabled budgets are free
    return [_line(r, ctx, "action-enabled budget", days, "budget-days", "budgets_action_day")]


# ------------------------------------------------------------------------------------------------ edge / DNS


def route53_zone(r: Resource, ctx: Context) -> list[LineItem]:
    return [_line(r, ctx, "hosted zone", 1, "zone-months", "route53_zone_month")]


# An ALB or CloudFront target, by name or by reference (cross-stack outputs drop the dots: aws_lbalbdns_name).
_AWS_ENDPOINT = re.compile(r"amazonaws\.com|cloudfront\.net|aws_lb|aws_cloudfront_distribution|\belb\b")


def route53_health_check(r: Resource, ctx: Context) -> list[LineItem]:
    a = r.attrs
    kind = str(a.get("type", "HTTP")).upper()
    fqdn = str(a.get("fqdn", "")).rstrip(".")
    target = fqdn + str(a.get("ip_address", ""))
    # A name the stage itself aliases to an ALB or CloudFront is an AWS endpoint too.
    for record in ctx.in_stage("aws_route53_record"):
        if fqdn and str(record.attrs.get("name", "")).rstrip(".") == fqdn:
            target += " " + str(_first(record.attrs.get("alias")).get("name", ""))
    aws = kind in ("CALCULATED", "CLOUDWATCH_METRIC", "RECOVERY_CONTROL") or bool(_AWS_ENDPOINT.search(target))
    features = 0
    if kind not in ("CALCULATED", "CLOUDWATCH_METRIC", "RECOVERY_CONTROL"):
        features = sum(
            (
                kind.startswith("HTTPS"),
                kind.endswith("STR_MATCH"),
                int(a.get("request_interval", 30)) == 10,
                _truthy(a.get("measure_latency")),
            )
        )
    key = "route53_health_check_aws_month" if aws else "route53_health_check_other_month"
    lines = [_line(r, ctx, f"{kind} health check ({'AWS' if aws else 'non-AWS'} endpoint)", 1, "check-months", key)]
    if features:
        lines.append(
            _line(
                r,
                ctx,
                f"{features} optional features",
                features,
                "feature-months",
                "route53_health_check_feature_month",
                1.0 if aws else 2.0,
            )
        )
    return lines


# ------------------------------------------------------------------------------------------------ security / ops


def kms_key(r: Resource, ctx: Context) -> list[LineItem]:
    return [_line(r, ctx, "customer managed key", 1, "key-months", "kms_key_month")]


def secret(r: Resource, ctx: Context) -> list[LineItem]:
    replicas = len(_blocks(r.attrs.get("replica")))
    return [
        _line(
            r,
            ctx,
            f"secret{f' + {replicas} replicas' if replicas else ''}",
            1 + replicas,
            "secret-months",
            "secret_month",
        )
    ]


def state_machine(r: Resource, ctx: Context) -> list[LineItem]:
    transitions = ctx.profile.sfn_transitions_per_month
    return [_line(r, ctx, "state transitions", transitions / 1e3, "1k transitions", "sfn_1k_transitions")]


def fis_template(r: Resource, ctx: Context) -> list[LineItem]:
    actions = len(_blocks(r.attrs.get("action"))) or 1
    minutes = ctx.profile.fis_minutes_per_month * actions
    return [_line(r, ctx, f"{actions} actions during drills", minutes, "action-minutes", "fis_action_minute")]


# ------------------------------------------------------------------------------------------------ delivery


def codebuild_project(r: Resource, ctx: Context) -> list[LineItem]:
    env = _first(r.attrs.get("environment"))
    compute = str(env.get("compute_type", "BUILD_GENERAL1_SMALL"))
    arm = "ARM" in str(env.get("type", ""))
    key = f"codebuild_minute:{'arm:' if arm else ''}{compute}"
    minutes = ctx.profile.pipeline_runs_per_month * ctx.profile.build_minutes_per_run
    return [_line(r, ctx, f"{compute}{' arm' if arm else ''} builds", minutes, "build-minutes", key)]


def codepipeline(r: Resource, ctx: Context) -> list[LineItem]:
    p = ctx.profile
    if str(r.attrs.get("pipeline_type", "V1")) != "V2":
        return [_line(r, ctx, "V1 pipeline", 1, "pipeline-months", "codepipeline_v1_month")]
    actions = [a for stage in _blocks(r.attrs.get("stage")) for a in _blocks(stage.get("action"))]
    builds = sum(1 for a in actions if str(a.get("category", "")) in ("Build", "Test", "Deploy", "Invoke"))
    minutes = p.pipeline_runs_per_month * builds * p.build_minutes_per_run
    return [
        _line(
            r,
            ctx,
            f"V2 pipeline, {builds} build/deploy actions",
            minutes,
            "action-minutes",
            "codepipeline_v2_action_minute",
        )
    ]


Rule = Callable[[Resource, Context], list[LineItem]]

RULES: dict[str, Rule] = {
    "aws_eks_cluster": eks_cluster,
    "aws_eks_node_group": eks_node_group,
    "aws_autoscaling_group": autoscaling_group,
    "aws_ebs_volume": ebs_volume,
    "aws_ecr_repository": ecr_repository,
    "aws_ecr_replication_configuration": ecr_replication,
    "aws_lambda_function": lambda_function,
    "aws_db_instance": db_instance,
    "aws_elasticache_replication_group": elasticache_replication_group,
    "aws_elasticache_cluster": elasticache_cluster,
    "aws_nat_gateway": nat_gateway,
    "aws_eip": eip,
    "aws_vpc_endpoint": vpc_endpoint,
    "aws_vpc": vpc,
    "aws_lb": load_balancer,
    "aws_alb": load_balancer,
    "aws_cloudfront_distribution": cloudfront_distribution,
    "aws_cloudfront_function": cloudfront_function,
    "aws_wafv2_web_acl": wafv2_web_acl,
    "aws_s3_bucket": s3_bucket,
    "aws_s3_bucket_replication_configuration": s3_replication,
    "aws_backup_plan": backup_plan,
    "aws_sqs_queue": sqs_queue,
    "aws_cloudwatch_metric_alarm": metric_alarm,
    "aws_cloudwatch_composite_alarm": composite_alarm,
    "aws_cloudwatch_dashboard": dashboard,
    "aws_cloudwatch_log_metric_filter": log_metric_filter,
    "aws_cloudwatch_log_group": log_group,
    "aws_cloudtrail": cloudtrail,
    "aws_budgets_budget_action": budget_action,
    "aws_route53_zone": route53_zone,
    "aws_route53_health_check": route53_health_check,
    "aws_kms_key": kms_key,
    "aws_kms_replica_key": kms_key,
    "aws_secretsmanager_secret": secret,
    "aws_sfn_state_machine": state_machine,
    "aws_fis_experiment_template": fis_template,
    "aws_codebuild_project": codebuild_project,
    "aws_codepipeline": codepipeline,
}
