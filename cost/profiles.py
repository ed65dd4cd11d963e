"""Usage profiles (cost/profiles/<name>.yaml): the traffic and data a month brings, validated field by field,
and converted into the quantities the pricing rules need (requests, GB, node-hours within autoscaling bounds)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROFILES_DIR = Path(__file__).parent / "profiles"
HOURS_PER_MONTH = 730.0
DAYS_PER_MONTH = HOURS_PER_MONTH / 24

# field -> (kind, why). Kinds: count (>= 0), ratio (0..1), multiplier (>= 1), hours (0..730),
# per_key (mapping name -> count with a `default`), stages (mapping stage -> ratio).
FIELDS: dict[str, tuple[str, str]] = {
    "orders_per_day": ("count", "orders placed per normal day"),
    "page_views_per_day": ("count", "storefront page views per normal day"),
    "requests_per_page_view": ("count", "CloudFront requests (HTML, API, assets) per page view"),
    "page_weight_kb": ("count", "KB sent through CloudFront per page view, media excluded"),
    "media_gb_served_per_day": ("count", "product media served through CloudFront per normal day"),
    "cdn_cache_hit_ratio": ("ratio", "share of CloudFront requests and bytes answered from the edge cache"),
    "alb_new_connections_per_request": ("ratio", "new TLS connections per origin request (CloudFront reuses)"),
    "peak_multiplier": ("multiplier", "traffic during the peak relative to a normal day"),
    "peak_hours_per_month": ("hours", "hours of the month spent at the peak"),
    "stage_traffic_share": ("stages", "each stage's traffic and data relative to prod"),
    "secondary_traffic_share": ("ratio", "user traffic the secondary region serves (warm standby: 0)"),
    "nat_gb_per_day": ("count", "GB through NAT per day (payment providers, APIs without endpoints)"),
    "vpc_endpoint_gb_per_day": ("count", "GB through interface endpoints per day (logs, SQS, ECR pulls)"),
    "inter_az_gb_per_day": ("count", "GB crossing AZs per day (app <-> data, pod <-> pod)"),
    "db_change_gb_per_day": ("count", "binlog volume per day: cross-region replica transfer and backup growth"),
    "sqs_messages_per_order": ("count", "messages sent per order across the queues"),
    "sqs_pollers_per_queue": ("count", "long-polling consumers per queue (empty receives cost requests)"),
    "bucket_ingest_gb_per_day": ("per_key", "GB written per day to each bucket (keyed by bucket name part)"),
    "storage_horizon_days": ("count", "age of the data set the month is priced at (lifecycle steady state)"),
    "log_ingest_gb_per_day": ("per_key", "GB ingested per day per log group (keyed by name part)"),
    "waf_logged_share": ("ratio", "share of WAF-inspected requests a rule blocks or counts (the log filter keeps)"),
    "secondary_log_share": ("ratio", "log volume of the standby region relative to the primary"),
    "log_compression_ratio": ("ratio", "stored CloudWatch Logs bytes per ingested byte"),
    "ecr_gb_per_repository": ("count", "image storage per ECR repository"),
    "cloudtrail_management_events_per_day": ("count", "management events per day (paid only on extra trails)"),
    "cloudtrail_data_events_per_day": ("count", "data events per day on trails that record them"),
    "lambda_invocations_per_month": ("count", "invocations per Lambda function per month"),
    "sfn_transitions_per_month": ("count", "state transitions per state machine per month (DR runbooks)"),
    "fis_minutes_per_month": ("count", "fault-injection action-minutes per experiment template per month"),
    "pipeline_runs_per_month": ("count", "delivery pipeline runs per month (merges to main)"),
    "build_minutes_per_run": ("count", "minutes each CodeBuild project / build action runs per pipeline run"),
}
STAGES = ("dev", "staging", "prod")


class ProfileError(ValueError):
    """A usage profile is invalid; the message names the profile and the field."""


@dataclass(frozen=True)
class UsageProfile:
    name: str
    values: dict[str, Any]

    def __getattr__(self, field: str) -> Any:
        try:
            return self.values[field]
        except KeyError:
            raise AttributeError(field) from None

    def keyed(self, field: str, name: str) -> float:
        """A per_key value: the first key contained in `name`, else the `default`."""
        table: dict[str, float] = self.values[field]
        for key, value in table.items():
            if key != "default" and key in name:
                return value
        return table["default"]

    # ------------------------------------------------------------------------------- derived quantities
    @property
    def volume_factor(self) -> float:
        """A month's traffic relative to a month of normal days (the peak hours weigh more)."""
        return 1 + (self.peak_multiplier - 1) * self.peak_hours_per_month / HOURS_PER_MONTH

    def traffic_share(self, stage: str, role: str) -> float:
        share = self.stage_traffic_share.get(stage, 0.0)
        return share if role == "primary" else share * self.secondary_traffic_share

    def data_share(self, stage: str) -> float:
        """Stored and replicated data: both regions hold the stage's full data set."""
        return self.stage_traffic_share.get(stage, 0.0)

    def monthly(self, per_day: float, stage: str, role: str) -> float:
        """A per-normal-day traffic volume as a month's total for one stage region."""
        return per_day * DAYS_PER_MONTH * self.volume_factor * self.traffic_share(stage, role)

    def orders_per_month(self) -> float:
        """Prod orders per month, the denominator of cost per 1,000 orders."""
        return self.orders_per_day * DAYS_PER_MONTH * self.volume_factor

    def node_hours(self, bounds: NodeBounds, stage: str, role: str, scales: bool) -> tuple[float, int]:
        """Node-hours per month and the node count at the peak, inside the group's autoscaling bounds.

        Desired size is taken as sized for prod's normal traffic; load scales it up (never below desired,
        never above max) during the peak hours only."""
        peak_nodes = bounds.desired
        if scales:
            load = self.traffic_share(stage, role) * self.peak_multiplier
            peak_nodes = min(bounds.maximum, max(bounds.desired, math.ceil(bounds.desired * load - 1e-9)))
        hours = bounds.desired * (HOURS_PER_MONTH - self.peak_hours_per_month) + peak_nodes * self.peak_hours_per_month
        return hours, peak_nodes


@dataclass(frozen=True)
class NodeBounds:
    minimum: int
    desired: int
    maximum: int


def _check(profile: str, field: str, kind: str, value: Any) -> Any:
    where = f"profile {profile}: {field}"

    def number(v: Any, label: str) -> float:
        if isinstance(v, bool) or not isinstance(v, int | float) or math.isnan(v):
            raise ProfileError(f"{label}: expected a number, got {v!r}")
        if v < 0:
            raise ProfileError(f"{label}: must not be negative, got {v!r}")
        return float(v)

    if kind in ("per_key", "stages"):
        if not isinstance(value, dict) or not value:
            raise ProfileError(f"{where}: expected a mapping")
        checked = {str(k): number(v, f"{where}.{k}") for k, v in value.items()}
        if kind == "per_key" and "default" not in checked:
            raise ProfileError(f"{where}.default: missing (used for names no key matches)")
        if kind == "stages":
            for stage in STAGES:
                if stage not in checked:
                    raise ProfileError(f"{where}.{stage}: missing")
                if checked[stage] > 1:
                    raise ProfileError(f"{where}.{stage}: must be between 0 and 1, got {checked[stage]}")
        return checked
    v = number(value, where)
    if kind == "ratio" and v > 1:
        raise ProfileError(f"{where}: must be between 0 and 1, got {v}")
    if kind == "multiplier" and v < 1:
        raise ProfileError(f"{where}: must be at least 1, got {v}")
    if kind == "hours" and v > HOURS_PER_MONTH:
        raise ProfileError(f"{where}: must be at most {HOURS_PER_MONTH:.0f} hours, got {v}")
    return v


def parse_profile(name: str, data: Any) -> UsageProfile:
    if not isinstance(data, dict):
        raise ProfileError(f"profile {name}: expected a mapping of fields")
    values: dict[str, Any] = {}
    for field, (kind, _why) in FIELDS.items():
        if field not in data:
            raise ProfileError(f"profile {name}: {field}: missing ({_why})")
        values[field] = _check(name, field, kind, data[field])
    unknown = sorted(set(data) - set(FIELDS) - {"description"})
    if unknown:
        raise ProfileError(f"profile {name}: {unknown[0]}: unknown field")
    return UsageProfile(name, values)


def load_profile(path: Path) -> UsageProfile:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ProfileError(f"profile {path.stem}: cannot read {path}: {exc}") from None
    return parse_profile(path.stem, data)


def load_profiles(profiles_dir: Path = PROFILES_DIR) -> dict[str, UsageProfile]:
    """Every profile, baseline first (the report's reference)."""
    paths = sorted(profiles_dir.glob("*.yaml"), key=lambda p: (p.stem != "baseline", p.stem))
    if not paths or paths[0].stem != "baseline":
        raise ProfileError(f"{profiles_dir}: baseline.yaml is required")
    return {p.stem: load_profile(p) for p in paths}
