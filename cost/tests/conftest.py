"""Shared test inputs: a small price table and usage profile with round numbers, so every expected figure
in the rule tests can be worked out by hand, and HCL fragments parsed by the same reader as cdktf.out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cost.estimate import StageEstimate, estimate_stage
from cost.hcl import Resource, parse_stack, read_outdir
from cost.prices import PriceTable, parse_table
from cost.profiles import UsageProfile, parse_profile

REPO = Path(__file__).resolve().parents[2]
HOURS = 730.0
DAYS = 730.0 / 24  # days per month

PRICES: dict[str, float] = {
    "eks_cluster_hour": 0.10,
    "ec2_hour:m7g.large": 0.08,
    "ec2_hour:t4g.medium": 0.04,
    "ec2_hour:m6i.large": 0.10,
    "ec2_hour:t3.medium": 0.05,
    "ec2_spot_discount": 0.60,
    "reserved_discount_1yr": 0.30,
    "reserved_discount_3yr": 0.50,
    "ebs_gp3_gb_month": 0.08,
    "rds_hour:db.r6g.large": 0.20,
    "rds_multi_az_factor": 2.0,
    "rds_gp3_gb_month": 0.10,
    "rds_backup_gb_month": 0.095,
    "elasticache_hour:cache.r7g.large": 0.20,
    "elasticache_valkey_hour:cache.r7g.large": 0.16,
    "nat_hour": 0.045,
    "nat_gb": 0.045,
    "public_ipv4_hour": 0.005,
    "vpce_interface_hour": 0.01,
    "vpce_gb": 0.01,
    "alb_hour": 0.0225,
    "alb_lcu_hour": 0.008,
    "cloudfront_gb": 0.085,
    "cloudfront_https_10k": 0.01,
    "cloudfront_flat_rate_business_month": 200.0,
    "waf_acl_month": 5.0,
    "waf_rule_month": 1.0,
    "waf_million_requests": 0.60,
    "s3_gb_month:STANDARD": 0.023,
    "s3_gb_month:STANDARD_IA": 0.0125,
    "s3_gb_month:GLACIER": 0.0036,
    "s3_gb_month:DEEP_ARCHIVE": 0.001,
    "sqs_million:standard": 0.40,
    "sqs_million:fifo": 0.50,
    "cw_alarm_month": 0.10,
    "cw_alarm_high_res_month": 0.30,
    "cw_logs_ingest_gb": 0.50,
    "cw_logs_storage_gb_month": 0.03,
    "cloudtrail_mgmt_100k": 2.0,
    "cloudtrail_data_100k": 0.10,
    "route53_zone_month": 0.50,
    "route53_health_check_aws_month": 0.50,
    "route53_health_check_other_month": 0.75,
    "route53_health_check_feature_month": 1.0,
    "transfer_inter_region_gb": 0.02,
    "transfer_inter_az_gb": 0.01,
    "kms_key_month": 1.0,
    "secret_month": 0.40,
    "backup_gb_month": 0.05,
    "backup_s3_gb_month": 0.04,
    "ecr_gb_month": 0.10,
    "codebuild_minute:BUILD_GENERAL1_LARGE": 0.02,
    "codepipeline_v2_action_minute": 0.002,
    "lambda_million_requests": 0.20,
    "lambda_gb_second": 0.00001,
    "sfn_1k_transitions": 0.025,
    "fis_action_minute": 0.10,
    "cw_composite_alarm_month": 0.50,
    "cw_dashboard_month": 3.0,
    "cw_custom_metric_month": 0.30,
    "budgets_action_day": 0.10,
    "cloudfront_function_million": 0.10,
}

PROFILE: dict[str, Any] = {
    "orders_per_day": 1000,
    "page_views_per_day": 100000,
    "requests_per_page_view": 10,
    "page_weight_kb": 1024,  # 100,000 x 1 MiB = 97.65625 GB/day
    "media_gb_served_per_day": 10,
    "cdn_cache_hit_ratio": 0.9,
    "alb_new_connections_per_request": 0.05,
    "peak_multiplier": 1,
    "peak_hours_per_month": 0,
    "stage_traffic_share": {"dev": 0.01, "staging": 0.1, "prod": 1.0},
    "secondary_traffic_share": 0.0,
    "nat_gb_per_day": 4,
    "vpc_endpoint_gb_per_day": 6,
    "inter_az_gb_per_day": 10,
    "db_change_gb_per_day": 2,
    "sqs_messages_per_order": 4,
    "sqs_pollers_per_queue": 2,
    "bucket_ingest_gb_per_day": {"media": 1.0, "default": 0.5},
    "storage_horizon_days": 365,
    "log_ingest_gb_per_day": {"flow": 2.0, "default": 0.1},
    "waf_logged_share": 0.1,
    "secondary_log_share": 0.5,
    "log_compression_ratio": 0.2,
    "ecr_gb_per_repository": 3,
    "cloudtrail_management_events_per_day": 100000,
    "cloudtrail_data_events_per_day": 200000,
    "lambda_invocations_per_month": 100000,
    "sfn_transitions_per_month": 2000,
    "fis_minutes_per_month": 30,
    "pipeline_runs_per_month": 100,
    "build_minutes_per_run": 10,
}


def table(region: str, prices: dict[str, float] | None = None) -> PriceTable:
    rows = {k: {"usd": v, "unit": "u", "source": "test", "verified": True} for k, v in (prices or PRICES).items()}
    return parse_table({"region": region, "as_of": "2026-01-01", "hours_per_month": 730, "prices": rows}, "test")


TABLES = {"us-east-1": table("us-east-1"), "us-west-2": table("us-west-2")}


def profile(**overrides: Any) -> UsageProfile:
    return parse_profile("test", {**PROFILE, **overrides})


def provider(region: str, alias: str | None = None) -> str:
    return f'provider "aws" {{\n  region = "{region}"\n' + (f'  alias = "{alias}"\n' if alias else "") + "}\n"


def stack(name: str, body: str, region: str = "us-east-1") -> list[Resource]:
    return parse_stack(name, provider(region) + body)


def estimate(resources: list[Resource], stage: str = "prod", **overrides: Any) -> StageEstimate:
    return estimate_stage(stage, resources, profile(**overrides), TABLES)


def lines_of(result: StageEstimate, rtype: str) -> dict[str, float]:
    return {line.item: line.monthly_usd for line in result.lines if line.resource.type == rtype}


@pytest.fixture(scope="session")
def synthesized() -> list[Resource]:
    """Every resource `make synth` wrote; the report is built from these."""
    outdir = REPO / "cdktf.out"
    assert (outdir / "stacks").is_dir(), "cdktf.out is missing: run `make synth` (then `make cost`)"
    return read_outdir(outdir)
