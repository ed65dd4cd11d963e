"""Cost-benefit options are re-priced variants of the stacks: checked against hand-computed deltas."""

from __future__ import annotations

import dataclasses

import pytest

from cost.hcl import Resource
from cost.prices import PriceTable, load_tables
from cost.profiles import load_profiles
from cost.report import report_from
from cost.tests.conftest import PRICES, PROFILE, TABLES, profile, stack, table
from cost.tests.test_rules import COMPUTE, EDGE, NETWORK, PRIMARY_DB
from cost.tradeoffs import RDS_TOPIC, Option, aurora_class, config_changes, prod_options

# The topics issue 10 asks the report to price side by side.
ISSUE_TOPICS = (
    "Graviton vs x86 nodes",
    "Spot share for workers",
    "NAT per AZ vs one",
    RDS_TOPIC,
    "Warm standby vs pilot light",
    "Redis node size",
    "Savings Plans / reserved instances",
    "CloudFront caching ratio",
)
# A Multi-AZ db.m7g.large writer with two read replicas (prod at a planned peak).
M7G_DB = PRIMARY_DB.replace("db.r6g.large", "db.m7g.large") + (
    'resource "aws_db_instance" "read-replica-1" {\n  instance_class = "db.m7g.large"\n'
    '  replicate_source_db = "${aws_db_instance.writer.identifier}"\n}\n'
)
RDS_PRICES = {
    **PRICES,
    "rds_hour:db.m7g.large": 0.16,
    "rds_multi_az_cluster_factor": 3.0,
    "aurora_hour:db.r7g.large": 0.28,
    "aurora_storage_gb_month": 0.10,
    "aurora_io_million": 0.20,
}
RDS_TABLES = {region: table(region, RDS_PRICES) for region in ("us-east-1", "us-west-2")}


def options(resources: list, tables: dict[str, PriceTable] = TABLES, **overrides: object) -> dict[str, Option]:
    return {o.option: o for o in prod_options("prod", resources, profile(**overrides), tables)}


def without(tables: dict[str, PriceTable], key: str) -> dict[str, PriceTable]:
    """The tables with one price row removed in every region."""
    return {r: dataclasses.replace(t, rows={k: v for k, v in t.rows.items() if k != key}) for r, t in tables.items()}


@pytest.fixture(scope="module")
def prod(synthesized: list[Resource]) -> list[Resource]:
    return [r for r in synthesized if r.stage == "prod"]


@pytest.fixture(scope="module")
def prod_found(prod: list[Resource]) -> list[Option]:
    """Prod's options from the committed stacks, price tables and baseline profile, as the report prices them."""
    return prod_options("prod", prod, load_profiles()["baseline"], load_tables({r.region for r in prod}))


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


def test_options_without_prices_are_listed_as_not_priced_not_as_savings() -> None:
    body = (
        'resource "aws_elasticache_replication_group" "redis" {\n  node_type = "cache.r7g.large"\n'
        "  num_cache_clusters = 2\n}\n"
    )
    found = options(stack("prod-primary-data", body))
    # The test table prices no other node type: each size is listed, naming the row it lacks, with no figure.
    sizes = {o.option.split()[0]: o for o in by_topic(found, "Redis node size")}
    assert set(sizes) == {"cache.r6g.large", "cache.m7g.large", "cache.t4g.medium"}
    for size, option in sizes.items():
        assert (option.monthly_delta_usd, option.missing) == (None, f"elasticache_hour:{size} (us-east-1)")
    assert config_changes("prod", stack("prod-primary-data", body), profile(), TABLES) == []
    assert PROFILE["cdn_cache_hit_ratio"] == 0.9


@pytest.mark.parametrize(
    ("rds", "aurora"),
    [
        ("db.m7g.large", "db.r7g.large"),
        ("db.m6g.xlarge", "db.r6g.xlarge"),
        ("db.t4g.medium", "db.t4g.medium"),
        ("db.r6g.large", "db.r6g.large"),
    ],
)
def test_aurora_class_is_the_memory_optimised_class_of_the_same_generation(rds: str, aurora: str) -> None:
    assert aurora_class(rds) == aurora


def test_rds_topic_prices_the_current_database_a_cluster_and_two_aurora_sizes() -> None:
    found = by_topic(options(stack("prod-primary-data", M7G_DB), RDS_TABLES), RDS_TOPIC)
    current, cluster, aurora, more, scaled = found
    # Instances and storage: the Multi-AZ writer bills twice; backups and the password secret stay in every row.
    now = 0.16 * 2 * 730 + 100 * 0.10 * 2 + 2 * (0.16 * 730 + 100 * 0.10)
    ios = 100000 * 10 * 730 / 24 * (1 - 0.9) * 5 / 1e6  # origin requests x 5 I/Os, in millions
    volume = 100 * 0.10 + ios * 0.20
    assert current.monthly_delta_usd == 0.0 and f"${now:,.0f}/month" in current.option
    assert cluster.monthly_delta_usd == pytest.approx(3 * (0.16 * 730 + 100 * 0.10) - now)
    assert aurora.option.startswith("Aurora MySQL writer + 2 readers (db.r7g.large: Aurora has no db.m7g)")
    assert aurora.monthly_delta_usd == pytest.approx(3 * 0.28 * 730 + volume - now)
    assert scaled.option.startswith("Aurora MySQL writer + 1 reader (db.r7g.large: Aurora has no db.m7g)")
    assert scaled.monthly_delta_usd == pytest.approx(2 * 0.28 * 730 + volume - now)
    assert "not counted" in scaled.resilience  # the readers added at peak are an assumption, said so
    assert more.option.startswith("Multi-AZ DB instance with one more read replica all month (3 replicas)")
    assert more.monthly_delta_usd == pytest.approx(0.16 * 730 + 100 * 0.10)


def test_a_missing_aurora_row_lists_aurora_as_not_priced() -> None:
    tables = without(RDS_TABLES, "aurora_hour:db.r7g.large")
    found = by_topic(options(stack("prod-primary-data", M7G_DB), tables), RDS_TOPIC)
    aurora = [o for o in found if o.option.startswith("Aurora")]
    assert [(o.monthly_delta_usd, o.missing) for o in aurora] == [(None, "aurora_hour:db.r7g.large (us-east-1)")] * 2
    assert all(o.monthly_delta_usd is not None for o in found if o not in aurora)  # the cluster is still priced


def test_prod_aurora_rows_are_priced_at_the_mapped_class(prod_found: list[Option]) -> None:
    east = load_tables({"us-east-1"})["us-east-1"]
    base = load_profiles()["baseline"]
    usd = east.usd
    # Prod: a Multi-AZ db.m7g.large writer and one replica on 100 GB; Aurora runs db.r7g.large (no m classes).
    replica = 730 * usd("rds_hour:db.m7g.large") + 100 * usd("rds_gp3_gb_month")
    now = 2 * replica + replica
    origin = base.page_views_per_day * base.requests_per_page_view * 730 / 24 * (1 - base.cdn_cache_hit_ratio)
    volume = 100 * usd("aurora_storage_gb_month") + origin * 5 / 1e6 * usd("aurora_io_million")
    aurora = {o.option.split(" (")[0]: o for o in prod_found if o.option.startswith("Aurora MySQL")}
    assert set(aurora) == {"Aurora MySQL writer + 1 reader"}
    one = aurora["Aurora MySQL writer + 1 reader"]
    assert "(db.r7g.large: Aurora has no db.m7g)" in one.option
    assert one.monthly_delta_usd == pytest.approx(2 * 730 * usd("aurora_hour:db.r7g.large") + volume - now)
    (more,) = [o for o in prod_found if "one more read replica" in o.option]
    assert more.monthly_delta_usd == pytest.approx(replica)


def test_every_topic_of_the_issue_is_priced_for_prod(prod_found: list[Option]) -> None:
    missing = [topic for topic in ISSUE_TOPICS if not any(o.topic == topic for o in prod_found)]
    assert missing == []
    rds = [o.option.split(" (")[0] for o in prod_found if o.topic == RDS_TOPIC]
    assert rds[:2] == ["Multi-AZ DB instance", "Multi-AZ DB cluster"]
    assert any(option.startswith("Aurora MySQL") for option in rds[2:])
    commitments = [o.option[:6] for o in prod_found if o.topic == "Savings Plans / reserved instances"]
    assert commitments == ["1-year", "3-year"]
    # The committed tables price every option: a "not priced" row in the report is a table to fix.
    assert [o.option for o in prod_found if o.monthly_delta_usd is None] == []


def test_report_shows_an_option_whose_row_is_missing(prod: list[Resource]) -> None:
    tables = without(load_tables({r.region for r in prod}), "aurora_hour:db.r7g.large")
    built = report_from(prod, load_profiles(), tables)
    assert (
        "| RDS Multi-AZ instance vs cluster vs Aurora | Aurora MySQL writer + 1 reader (db.r7g.large: Aurora has no "
        "db.m7g); 100 GB, 30M I/Os a month | not priced: aurora_hour:db.r7g.large (us-east-1) |"
    ) in built.markdown
    data = [o for o in built.data["options"] if o["option"].startswith("Aurora MySQL writer + 1 reader")]
    assert [(o["monthly_delta_usd"], o["missing"]) for o in data] == [(None, "aurora_hour:db.r7g.large (us-east-1)")]


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
