"""Cost-benefit options are re-priced variants of the stacks: checked against hand-computed deltas."""

from __future__ import annotations

import pytest

from cost.tests.conftest import PROFILE, TABLES, profile, stack
from cost.tests.test_rules import COMPUTE, EDGE, NETWORK, PRIMARY_DB
from cost.tradeoffs import Option, config_changes, prod_options


def options(resources: list, **overrides: object) -> dict[str, Option]:
    return {o.option: o for o in prod_options("prod", resources, profile(**overrides), TABLES)}


def by_topic(found: dict[str, Option], topic: str) -> list[Option]:
    return [o for o in found.values() if o.topic == topic]


def test_graviton_vs_x86_prices_the_x86_equivalents() -> None:
    found = options(stack("prod-primary-compute", COMPUTE % "ON_DEMAND"))
    [graviton] = by_topic(found, "Graviton vs x86 nodes")
    # app: 3 x m7g.large (0.08) -> m6i.large (0.10); system: 2 x t4g.medium (0.04) -> t3.medium (0.05)
    assert graviton.monthly_delta_usd == pytest.approx(3 * 730 * 0.02 + 2 * 730 * 0.01)


def test_one_nat_per_region_saves_the_other_gateways() -> None:
    found = options(stack("prod-primary-network", NETWORK))
    [nat] = by_topic(found, "NAT per AZ vs one")
    assert nat.monthly_delta_usd == pytest.approx(-730 * 0.045)  # nat-1 goes; the data volume stays
    assert "AZ outage" in nat.resilience


def test_spot_share_uses_the_worker_share_of_app_nodes() -> None:
    found = options(stack("prod-primary-compute", COMPUTE % "ON_DEMAND"))
    spot = sorted(o.monthly_delta_usd for o in by_topic(found, "Spot share for workers"))
    # 5 of the 10 workloads are workers: all of them on Spot = half the app node-hours at 60% off.
    assert spot[0] == pytest.approx(-3 * 730 * 0.08 * 0.60 * 0.5)
    assert spot[1] == pytest.approx(-3 * 730 * 0.08 * 0.60 * 0.25)


def test_pilot_light_drops_the_standby_compute_and_network() -> None:
    resources = stack("prod-primary-network", NETWORK) + stack("prod-secondary-network", NETWORK, "us-west-2")
    found = options(resources)
    warm, pilot, restore = by_topic(found, "Warm standby vs pilot light")
    # secondary: 2 NATs, 1 EIP, 1 interface endpoint in 3 AZs (no traffic in the standby region)
    assert pilot.monthly_delta_usd == pytest.approx(-(2 * 730 * 0.045 + 730 * 0.005 + 3 * 730 * 0.01))
    assert warm.monthly_delta_usd == 0.0
    # backup & restore keeps nothing of the secondary network (the VPC's inter-AZ line is 0 without traffic)
    assert restore.monthly_delta_usd == pytest.approx(pilot.monthly_delta_usd)
    assert "RTO hours" in restore.resilience


def test_commitments_discount_the_steady_instance_hours() -> None:
    resources = stack("prod-primary-compute", COMPUTE % "ON_DEMAND") + stack("prod-primary-data", PRIMARY_DB)
    found = options(resources)
    one, three = by_topic(found, "Savings Plans / reserved instances")
    steady = 3 * 730 * 0.08 + 2 * 730 * 0.04 + 0.20 * 2 * 730 + 0.20 * 730
    assert one.monthly_delta_usd == pytest.approx(-0.30 * steady)
    assert three.monthly_delta_usd == pytest.approx(-0.50 * steady)


def test_valkey_engine_reprices_the_same_nodes() -> None:
    body = (
        'resource "aws_elasticache_replication_group" "redis" {\n  engine = "redis"\n'
        '  node_type = "cache.r7g.large"\n  num_cache_clusters = 2\n}\n'
    )
    [valkey] = by_topic(options(stack("prod-primary-data", body)), "Redis engine")
    assert valkey.monthly_delta_usd == pytest.approx(2 * 730 * (0.16 - 0.20))
    assert valkey.resilience.startswith("none")


def test_options_without_prices_are_left_out_not_shown_as_savings() -> None:
    body = (
        'resource "aws_elasticache_replication_group" "redis" {\n  node_type = "cache.r7g.large"\n'
        "  num_cache_clusters = 2\n}\n"
    )
    found = options(stack("prod-primary-data", body))
    assert by_topic(found, "Redis node size") == []  # the test table prices no other node type
    assert config_changes("prod", stack("prod-primary-data", body), profile(), TABLES) == []
    assert PROFILE["cdn_cache_hit_ratio"] == 0.9


def test_backup_scope_drops_the_bucket_recovery_points() -> None:
    from cost.tests.test_rules import REMOTE, STORAGE

    body = """
resource "aws_backup_plan" "plan" {
  rule {
    rule_name = "daily"
    lifecycle {
      delete_after = 35
    }
  }
}
resource "aws_backup_selection" "selection" {
  plan_id = "${aws_backup_plan.plan.id}"
  resources = [
    "${REMOTE.cross-stack-output-aws_db_instancewriterarn}",
    "${REMOTE.cross-stack-output-aws_s3_bucketmediaarn}"
  ]
}
""".replace("REMOTE", REMOTE)
    found = options(stack("prod-primary-data", PRIMARY_DB + STORAGE) + stack("prod-primary-dr", body))
    [scope] = by_topic(found, "Backup scope")
    assert scope.monthly_delta_usd == pytest.approx(-365 * 0.04)  # the media bucket's 365 GB at the S3 backup rate


def test_cache_hit_ratio_moves_alb_and_regional_waf_cost() -> None:
    from cost.tests.test_rules import EDGE

    found = options(stack("prod-primary-edge", EDGE))
    lower, higher = sorted(by_topic(found, "CloudFront caching ratio"), key=lambda o: o.monthly_delta_usd)
    requests = 100000 * 10 * 730 / 24
    gb = (100000 * 1024 / 1024**2 + 10) * 730 / 24
    # From 90% to 95%: half the origin bytes (LCU) and half the regional WAF requests.
    assert lower.monthly_delta_usd == pytest.approx(-(gb * 0.05 * 0.008 + requests * 0.05 / 1e6 * 0.60))
    assert higher.monthly_delta_usd == pytest.approx(gb * 0.10 * 0.008 + requests * 0.10 / 1e6 * 0.60)


def test_flat_rate_plan_replaces_the_distribution_its_waf_and_functions() -> None:
    found = options(stack("prod-primary-edge", EDGE))
    [flat] = by_topic(found, "CloudFront pricing plan")
    days = 730 / 24
    requests = 100000 * 10 * days
    gb = (100000 * 1024 / 1024**2 + 10) * days
    bundled = (
        gb * 0.085  # data out
        + requests / 1e4 * 0.01  # HTTPS requests
        + requests / 1e6 * 0.10  # the function on every request
        + 5.0
        + 3.0
        + requests / 1e6 * 0.60  # the CLOUDFRONT-scoped web ACL; the regional one is not bundled
    )
    assert flat.monthly_delta_usd == pytest.approx(200.0 - bundled)
    assert f"{requests / 125e6:.0%} of the requests" in flat.option
