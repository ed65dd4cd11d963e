"""Cost-benefit options for prod, each computed by re-pricing a changed copy of the synthesized resources (or
profile) against the current estimate, so every delta comes from the same rules as the report's totals.

An option whose price row the tables lack is still listed, as not priced, naming the row: a topic the issue
asks about must never drop out of the report unnoticed."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from cost.estimate import StageEstimate, estimate_stage
from cost.hcl import Resource
from cost.prices import MissingPrice, PriceError, PriceTable
from cost.profiles import HOURS_PER_MONTH, UsageProfile
from stacks.workloads import WORKLOADS

X86_EQUIVALENT = {
    "m7g.large": "m6i.large",
    "m6g.large": "m6i.large",
    "t4g.medium": "t3.medium",
    "c7g.large": "c6i.large",
}
REDIS_SIZES = ("cache.r7g.large", "cache.r6g.large", "cache.m7g.large", "cache.t4g.medium")
REDIS_MEMORY_GIB = {
    "cache.r7g.large": 13.07,
    "cache.r6g.large": 13.07,
    "cache.m7g.large": 6.38,
    "cache.t4g.medium": 3.09,
}
PILOT_LIGHT_OFF = (
    "aws_elasticache_replication_group",
    "aws_eks_node_group",
    "aws_eks_cluster",
    "aws_lb",
    "aws_wafv2_web_acl",
    "aws_nat_gateway",
    "aws_eip",
    "aws_vpc_endpoint",
)
AURORA_IOS_PER_ORIGIN_REQUEST = 5.0  # assumed I/Os per uncached request reaching the database tier
# Aurora MySQL has no general-purpose (m) DB instance classes: an RDS m class is compared with the memory-optimised
# class of the same generation and size. Burstable (t) and memory-optimised (r) classes exist in Aurora as they are.
AURORA_FAMILY = {"m7g": "r7g", "m6g": "r6g", "m6i": "r6i", "m5": "r5"}
RDS_TOPIC = "RDS Multi-AZ instance vs cluster vs Aurora"
# The primary database's lines that differ between the engines; backups and the master-password secret stay.
RDS_COMPARED = ("rds_hour", "rds_gp3_gb_month")
# CloudFront flat-rate "Business" plan (aws.amazon.com/cloudfront/pricing, since 2025-11-18): one distribution,
# these monthly allowances, no overage charges; it bundles the distribution's WAF and CloudFront Functions.
FLAT_RATE_REQUESTS = 125e6
FLAT_RATE_GB = 50_000.0
FLAT_RATE_TOPIC = "CloudFront pricing plan"  # a billing choice: no resilience cost


@dataclass(frozen=True)
class Option:
    topic: str
    option: str
    monthly_delta_usd: float | None  # None: not priced, `missing` names the price row the tables lack
    resilience: str
    basis_usd: float = 0.0  # the spend a percentage option applies to (commitments)
    missing: str = ""


def _option(topic: str, option: str, resilience: str, delta: Callable[[], float], basis_usd: float = 0.0) -> Option:
    """Prices one option; a missing price row leaves it in the report as not priced rather than out of it."""
    try:
        return Option(topic, option, delta(), resilience, basis_usd)
    except MissingPrice as exc:
        return Option(topic, option, None, resilience, basis_usd, missing=exc.row)


def aurora_class(rds_class: str) -> str:
    """The Aurora MySQL class an RDS for MySQL class is compared with (`db.m7g.large` -> `db.r7g.large`)."""
    prefix, family, size = rds_class.split(".", 2)
    return ".".join((prefix, AURORA_FAMILY.get(family, family), size))


@dataclass
class Pricer:
    stage: str
    resources: list[Resource]
    profile: UsageProfile
    tables: dict[str, PriceTable]

    def __post_init__(self) -> None:
        self.current = self.price(self.resources, self.profile)

    def price(self, resources: list[Resource], profile: UsageProfile) -> StageEstimate:
        return estimate_stage(self.stage, resources, profile, self.tables)

    def delta(
        self,
        change: Callable[[Resource], Resource | None] | None = None,
        profile: UsageProfile | None = None,
    ) -> float:
        resources = self.resources
        if change is not None:
            resources = [c for c in (change(r) for r in self.resources if r.stage == self.stage) if c is not None]
        variant = self.price(resources, profile or self.profile)
        known = {u.address for u in self.current.unpriced}
        new = sorted((u for u in variant.unpriced if u.address not in known), key=lambda u: u.address)
        if new:
            # A missing price must not read as a saving: a missing row shows as such, anything else stops the report.
            message = f"option leaves {new[0].address} unpriced ({new[0].reason})"
            raise MissingPrice(new[0].missing, message) if new[0].missing else PriceError(message)
        return variant.monthly_usd - self.current.monthly_usd


def _with(r: Resource, **attrs: object) -> Resource:
    return dataclasses.replace(r, attrs={**r.attrs, **attrs})


def _sum(estimate: StageEstimate, rtype: str, role: str | None = None) -> float:
    return sum(
        line.monthly_usd
        for line in estimate.lines
        if line.resource.type == rtype and (role is None or line.resource.role == role)
    )


def _graviton(p: Pricer) -> list[Option]:
    def x86(r: Resource) -> Resource:
        if r.type != "aws_eks_node_group":
            return r
        return _with(r, instance_types=[X86_EQUIVALENT.get(t, t) for t in r.attrs.get("instance_types", [])])

    return [
        _option(
            "Graviton vs x86 nodes",
            "x86 equivalents (m6i.large, t3.medium) instead of Graviton",
            "none; Graviton needs arm64 images (built multi-arch)",
            partial(p.delta, x86),
        )
    ]


def _spot(p: Pricer) -> list[Option]:
    """Workers' share of app node-hours (from the workload list) moved to Spot at the table's discount."""
    workers = sum(1 for w in WORKLOADS if w.kind == "worker") / len(WORKLOADS)

    def saving(share: float) -> float:
        spot_discount = sum(
            line.monthly_usd * p.tables[line.billed_region].usd("ec2_spot_discount")
            for line in p.current.lines
            if line.resource.type == "aws_eks_node_group"
            and line.unit == "instance-hours"
            and "system" not in str(line.resource.attrs.get("node_group_name", line.resource.name))
        )
        return -spot_discount * workers * share

    return [
        _option(
            "Spot share for workers",
            f"{share:.0%} of worker capacity ({workers * share:.0%} of app node-hours) on Spot",
            "2-minute interruptions: only for SQS workers (idempotent, redriven); never web pods",
            partial(saving, share),
        )
        for share in (0.5, 1.0)
    ]


def _nat(p: Pricer) -> list[Option]:
    def one_nat(r: Resource) -> Resource | None:
        if r.type in ("aws_nat_gateway", "aws_eip") and not r.name.endswith("-0"):
            return None
        return r

    return [
        _option(
            "NAT per AZ vs one",
            "one NAT gateway per region instead of one per AZ",
            "an AZ outage cuts egress (payment providers) for all AZs; prod config forbids it",
            partial(p.delta, one_nat),
        )
    ]


def _rds(p: Pricer) -> list[Option]:
    """The primary region's database as it runs, as a Multi-AZ DB cluster and as Aurora, compared on instances,
    storage and (Aurora) I/O; the standby region's replica is left as it is in every row."""
    primary = [r for r in p.resources if r.stage == p.stage and r.type == "aws_db_instance" and r.role == "primary"]
    writer = next((r for r in primary if "replicate_source_db" not in r.attrs), None)
    if writer is None:
        return []
    table = p.tables[writer.region]
    cls = str(writer.attrs["instance_class"])
    storage = float(writer.attrs.get("allocated_storage", 0))
    replicas = len(primary) - 1
    current = sum(
        line.monthly_usd
        for line in p.current.lines
        if line.resource in primary and line.price_key.partition(":")[0] in RDS_COMPARED
    )

    def cluster() -> float:
        """A writer and two readable standbys replace the Multi-AZ writer and the read replicas."""
        instance = table.usd(f"rds_hour:{cls}") * HOURS_PER_MONTH + storage * table.usd("rds_gp3_gb_month")
        return table.usd("rds_multi_az_cluster_factor") * instance - current

    aurora_cls = aurora_class(cls)
    prof = p.profile
    origin = prof.monthly(prof.page_views_per_day * prof.requests_per_page_view, p.stage, "primary")
    ios = origin * (1 - prof.cdn_cache_hit_ratio) * AURORA_IOS_PER_ORIGIN_REQUEST / 1e6

    def aurora(readers: int) -> float:
        """A writer and `readers` Aurora Replicas on one cluster volume (Standard storage, billed per GB and I/O)."""
        instances = (1 + readers) * table.usd(f"aurora_hour:{aurora_cls}") * HOURS_PER_MONTH
        volume = storage * table.usd("aurora_storage_gb_month") + ios * table.usd("aurora_io_million")
        return instances + volume - current

    classes = f"({aurora_cls}" + ("" if aurora_cls == cls else f": Aurora has no {cls.rsplit('.', 1)[0]}") + ")"
    usage = f"{storage:g} GB, {ios:.0f}M I/Os a month"
    one_replica = [r for r in primary if r is not writer][:1]
    replica_lines = [line for line in p.current.lines if line.resource in one_replica]
    options = [
        Option(
            RDS_TOPIC,
            f"Multi-AZ DB instance (current: {cls} writer + {_count(replicas, 'read replica')}, "
            f"${current:,.0f}/month for instances and storage)",
            0.0,
            "failover typically 60-120 s to the standby (not readable); the replicas serve reads; snapshots copy to "
            "the standby region",
        ),
        _option(
            RDS_TOPIC,
            f"Multi-AZ DB cluster ({cls} x3; its 2 readable standbys replace the {_count(replicas, 'read replica')})",
            "faster failover (typically under 35 s vs 60-120 s), but a Multi-AZ DB cluster's snapshots cannot be "
            "copied and it has no cross-Region automated backups: the vault-locked copies in the standby region go",
            cluster,
        ),
        _option(
            RDS_TOPIC,
            f"Aurora MySQL writer + {_count(replicas, 'reader')} {classes}; {usage}",
            "failover to a reader in another AZ, typically under 30 s (vs 60-120 s); 6 storage copies across 3 AZs; "
            "a reader for each replica now. Not in the delta: the standby-region replica, which would become an "
            "Aurora Global Database secondary (RPO ~1 s, RTO < 1 min)",
            partial(aurora, replicas),
        ),
    ]
    if replica_lines:
        options.append(
            Option(
                RDS_TOPIC,
                f"Multi-AZ DB instance with one more read replica all month ({_count(replicas + 1, 'replica')}), "
                "not only during planned peaks",
                sum(line.monthly_usd for line in replica_lines),
                "a replica's loss leaves another replica serving reads; now the writer takes them until RDS "
                "replaces it (the writer is sized for it: `make drill SCENARIO=reader-loss`)",
            )
        )
    if replicas > 1:
        options.append(
            _option(
                RDS_TOPIC,
                f"Aurora MySQL writer + 1 reader {classes}, Aurora Auto Scaling adding readers at peak; {usage}",
                "the reader is the failover target (another AZ, typically under 30 s); off-peak reads on 1 reader, "
                f"not {replicas}. Priced with 1 reader all month: readers added at peak bill per instance-hour on "
                "top, not counted (the profile does not say how many the peak needs)",
                partial(aurora, 1),
            )
        )
    return options


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _standby(p: Pricer) -> list[Option]:
    def pilot_light(r: Resource) -> Resource | None:
        return None if r.role == "secondary" and r.type in PILOT_LIGHT_OFF else r

    def backup_and_restore(r: Resource) -> Resource | None:
        keep = r.role == "primary" or r.layer == "dr"
        return r if keep else None

    secondary = p.current.role_total("secondary")
    return [
        Option(
            "Warm standby vs pilot light",
            f"warm standby (current secondary region: ${secondary:,.0f}/month)",
            0.0,
            "RTO minutes: scale the standby node group, promote the replica, Route 53 fails over",
        ),
        _option(
            "Warm standby vs pilot light",
            "pilot light: keep DB replica, buckets, keys; no EKS, Redis, ALB, NAT, endpoints until failover",
            "RTO tens of minutes (create cluster, nodes, cache; cold cache); RPO unchanged",
            partial(p.delta, pilot_light),
        ),
        _option(
            "Warm standby vs pilot light",
            "backup & restore: only the standby backup vault (and its copies) in the secondary region",
            "RTO hours (rebuild every stack, restore the database from a copied snapshot); RPO up to a day",
            partial(p.delta, backup_and_restore),
        ),
    ]


def _is_cache(r: Resource, role: str) -> bool:
    return r.role == role and r.type == "aws_elasticache_replication_group"


def _redis(p: Pricer) -> list[Option]:
    """Other node sizes for the primary cache; the standby keeps its own size and takes the primary's on
    failover, so its cost does not move."""
    current = {str(r.attrs.get("node_type")) for r in p.resources if r.stage == p.stage and _is_cache(r, "primary")}
    options = []
    for size in REDIS_SIZES:
        if size in current:
            continue

        def resize(r: Resource, size: str = size) -> Resource:
            return _with(r, node_type=size) if _is_cache(r, "primary") else r

        memory = REDIS_MEMORY_GIB.get(size, 0)
        note = "burstable: CPU credits run out under sustained peak load" if ".t4g." in size else "same topology"
        options.append(
            _option(
                "Redis node size",
                f"{size} ({memory:g} GiB) in the primary region",
                f"{note}; memory {memory:g} GiB per node",
                partial(p.delta, resize),
            )
        )
    return options


def _valkey(p: Pricer) -> list[Option]:
    """The same caches on ElastiCache's Valkey engine, the Redis-compatible fork it bills lower per node."""

    def valkey(r: Resource) -> Resource:
        return _with(r, engine="valkey") if r.type == "aws_elasticache_replication_group" else r

    return [
        _option(
            "Redis engine",
            "Valkey instead of Redis OSS on the same nodes in both regions",
            "none: same nodes, Multi-AZ failover, IAM authentication and protocol (the apps' redis-py does not "
            "change); ElastiCache moves a Redis OSS 7.1 group to Valkey in place. A product choice: the design "
            "names Redis",
            partial(p.delta, valkey),
        )
    ]


def _standby_redis(p: Pricer) -> list[Option]:
    """The standby cache at the primary's size all month instead of a smaller one resized on failover."""
    primary = {str(r.attrs.get("node_type")) for r in p.resources if r.stage == p.stage and _is_cache(r, "primary")}
    if len(primary) != 1:
        return []
    (size,) = primary

    def full_size(r: Resource) -> Resource:
        return _with(r, node_type=size) if _is_cache(r, "secondary") and r.attrs.get("node_type") != size else r

    option = _option(
        "Redis node size",
        f"standby region at the primary's size ({size}) all month",
        "the standby cache takes full load at once; now failover starts an online node-type change (minutes, "
        "the cache keeps serving) while the database is promoted",
        partial(p.delta, full_size),
    )
    return [option] if option.monthly_delta_usd != 0 else []  # 0: the standby already runs that size


def _backup_scope(p: Pricer) -> list[Option]:
    """AWS Backup of buckets that are already versioned and replicated to the other region."""

    def databases_only(r: Resource) -> Resource:
        if r.type != "aws_backup_selection":
            return r
        kept = [e for e in r.attrs.get("resources") or [] if "aws_s3_bucket" not in str(e)]
        return _with(r, resources=kept)

    if not any(r.stage == p.stage and r.type == "aws_backup_selection" for r in p.resources):
        return []
    option = _option(
        "Backup scope",
        "AWS Backup for the database only; buckets rely on versioning + cross-region replication",
        "loses vault-locked (immutable) bucket copies: deletes by a compromised "
        "role replicate; versioning keeps noncurrent objects 365 days",
        partial(p.delta, databases_only),
    )
    return [option] if option.monthly_delta_usd != 0 else []  # 0: no bucket is backed up


def _flat_rate(p: Pricer) -> list[Option]:
    """CloudFront's flat-rate Business plan instead of pay-as-you-go for each distribution, its web ACL and its
    functions (the plan's DNS, log and S3 credits are not counted)."""
    distributions = [line for line in p.current.lines if line.resource.type == "aws_cloudfront_distribution"]
    if not distributions:
        return []
    bundled = [
        line
        for line in p.current.lines
        if line.resource.type in ("aws_cloudfront_distribution", "aws_cloudfront_function")
        or (line.resource.type == "aws_wafv2_web_acl" and str(line.resource.attrs.get("scope")).upper() == "CLOUDFRONT")
    ]
    count = len({line.resource.address for line in distributions})
    plans = count * p.tables[distributions[0].billed_region].usd("cloudfront_flat_rate_business_month")
    requests = sum(line.quantity * 1e4 for line in distributions if line.price_key == "cloudfront_https_10k") / count
    gb = sum(line.quantity for line in distributions if line.price_key == "cloudfront_gb") / count
    return [
        Option(
            FLAT_RATE_TOPIC,
            f"flat-rate Business plan (${plans:,.0f}/month for {count} distribution(s)) instead of pay-as-you-go "
            f"CloudFront, its WAF and functions; baseline uses {requests / FLAT_RATE_REQUESTS:.0%} of the requests "
            f"and {gb / FLAT_RATE_GB:.0%} of the transfer allowance",
            plans - sum(line.monthly_usd for line in bundled),
            "none for serving (same distribution, origin failover and WAF); the plan limits which WAF features "
            "apply and has no resource in the pinned Terraform provider: subscribe with the PricingPlanManager API",
        )
    ]


def _commitments(p: Pricer) -> list[Option]:
    steady = sum(
        line.monthly_usd
        for line in p.current.lines
        if line.unit in ("instance-hours", "node-hours") and "spot" not in line.item
    )
    table = p.tables[next(iter(sorted(p.tables)))]

    def saving(years: int) -> float:
        return -table.usd(f"reserved_discount_{years}yr") * steady

    return [
        _option(
            "Savings Plans / reserved instances",
            f"{years}-year no-upfront commitment on the steady ${steady:,.0f} of EC2, RDS, Redis",
            "none; commitment outlives a downsizing",
            partial(saving, years),
            basis_usd=steady,
        )
        for years in (1, 3)
    ]


def _caching(p: Pricer) -> list[Option]:
    options = []
    for ratio in (0.8, 0.95):
        if abs(ratio - p.profile.cdn_cache_hit_ratio) < 1e-9:
            continue
        profile = dataclasses.replace(p.profile, values={**p.profile.values, "cdn_cache_hit_ratio": ratio})
        origin = 1 - ratio
        prof = p.profile
        now_rps = prof.page_views_per_day * prof.requests_per_page_view / 86400 * (1 - prof.cdn_cache_hit_ratio)
        rps = prof.page_views_per_day * prof.requests_per_page_view / 86400 * origin
        options.append(
            _option(
                "CloudFront caching ratio",
                f"cache hit ratio {ratio:.0%} (now {prof.cdn_cache_hit_ratio:.0%}): "
                f"origin gets {origin:.0%} of requests",
                f"origin load {rps:,.0f} req/s on average (now {now_rps:,.0f}), scaled by the peak multiplier on "
                "Black Friday: app nodes and the database feel the difference, ALB/WAF fees barely do",
                partial(p.delta, profile=profile),
            )
        )
    return options


def prod_options(
    stage: str, resources: list[Resource], profile: UsageProfile, tables: dict[str, PriceTable]
) -> list[Option]:
    """Every option, in report order. A missing price row shows on its option as not priced; the flat-rate plan's
    row (its label quotes the price) and any other price failure raise, failing the report build, rather than
    dropping a topic."""
    p = Pricer(stage, resources, profile, tables)
    builds = (
        _graviton,
        _spot,
        _nat,
        _rds,
        _standby,
        _redis,
        _standby_redis,
        _valkey,
        _backup_scope,
        _flat_rate,
        _commitments,
        _caching,
    )
    return [option for build in builds for option in build(p)]


@dataclass(frozen=True)
class ConfigChange:
    field: str
    current: str
    proposed: str
    monthly_delta_usd: float
    why: str


CONFIG_CHANGES: tuple[tuple[str, str, str, str, str], ...] = (
    # (config field, resource type, attribute, proposed value, why it keeps resilience)
    (
        "cache_node_type",
        "aws_elasticache_replication_group",
        "node_type",
        "cache.m7g.large",
        "same 2-node Multi-AZ group with automatic failover; 6.4 GiB per node is ample for "
        "sessions, carts and catalog cache",
    ),
    (
        "db_instance_class",
        "aws_db_instance",
        "instance_class",
        "db.m7g.large",
        "same Multi-AZ writer, read replicas and cross-region replica; Graviton3, 8 GiB RAM per instance",
    ),
)


def config_changes(
    stage: str, resources: list[Resource], profile: UsageProfile, tables: dict[str, PriceTable]
) -> list[ConfigChange]:
    """Size changes in stacks/config.py `_defaults()` that lower prod's cost without removing redundancy."""
    p = Pricer(stage, resources, profile, tables)
    changes = []
    for field, rtype, attr, proposed, why in CONFIG_CHANGES:
        # The primary's sizes: the standby's own (smaller) ones are separate fields.
        mine = [r for r in p.resources if r.stage == stage and r.type == rtype and r.role == "primary"]
        current = sorted({str(r.attrs.get(attr)) for r in mine})
        if not current or current == [proposed]:
            continue

        def resize(r: Resource, mine: list[Resource] = mine, attr: str = attr, proposed: str = proposed) -> Resource:
            return _with(r, **{attr: proposed}) if r in mine else r

        try:
            changes.append(ConfigChange(field, ", ".join(current), proposed, p.delta(resize), why))
        except PriceError:
            continue
    return changes
