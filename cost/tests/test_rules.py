"""Each pricing rule against a hand-computed case on a small HCL fragment (prices and profile in conftest)."""

from __future__ import annotations

import math

import pytest

from cost.estimate import StageEstimate
from cost.rules import FREE_TYPES, RULES, storage_by_class
from cost.tests.conftest import DAYS, HOURS, estimate, stack

GIB_PER_DAY = 100000 * 1024 / 1024**2  # page views x page weight, in GB


def at(result: StageEstimate, name: str) -> dict[str, float]:
    """Line items of the resource called `name`, by item."""
    return {line.item: line.monthly_usd for line in result.lines if line.resource.name == name}


def approx(value: float) -> object:
    return pytest.approx(value, rel=1e-9, abs=1e-9)


COMPUTE = """
resource "aws_eks_cluster" "cluster" {
  name = "c"
}
resource "aws_launch_template" "lt" {
  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size = 50
    }
  }
}
resource "aws_eks_node_group" "app" {
  node_group_name = "peakshop-prod-p-app"
  instance_types = ["m7g.large", "m6g.large"]
  capacity_type = "%s"
  launch_template {
    id = "${aws_launch_template.lt.id}"
  }
  scaling_config {
    desired_size = 3
    max_size = 10
    min_size = 2
  }
}
resource "aws_eks_node_group" "system" {
  node_group_name = "peakshop-prod-p-system"
  instance_types = ["t4g.medium"]
  scaling_config {
    desired_size = 2
    max_size = 3
    min_size = 2
  }
}
"""


def test_eks_cluster_and_node_groups_at_desired_size() -> None:
    result = estimate(stack("prod-primary-compute", COMPUTE % "ON_DEMAND"))
    assert at(result, "cluster") == {"control plane": approx(730 * 0.10)}
    app = at(result, "app")
    assert app["m7g.large: 3 desired, 3 at peak (min 2, max 10)"] == approx(3 * 730 * 0.08)
    assert app["node volumes 50 GB gp3"] == approx(3 * 50 * 0.08)  # from the launch template
    system = at(result, "system")
    assert system["t4g.medium: 2 desired, 2 at peak (min 2, max 3)"] == approx(2 * 730 * 0.04)
    assert system["node volumes 20 GB gp3"] == approx(2 * 20 * 0.08)  # EKS default disk


def test_node_groups_scale_to_max_at_the_peak_but_system_nodes_do_not() -> None:
    result = estimate(stack("prod-primary-compute", COMPUTE % "ON_DEMAND"), peak_multiplier=4, peak_hours_per_month=100)
    # 3 desired x 4 = 12 nodes wanted, capped at max 10, for 100 of the 730 hours.
    item = "m7g.large: 3 desired, 10 at peak (capped at max) (min 2, max 10)"
    assert at(result, "app")[item] == approx((3 * 630 + 10 * 100) * 0.08)
    assert at(result, "system")["t4g.medium: 2 desired, 2 at peak (min 2, max 3)"] == approx(2 * 730 * 0.04)


def test_dev_traffic_share_does_not_scale_nodes() -> None:
    result = estimate(
        stack("dev-primary-compute", COMPUTE % "ON_DEMAND"), "dev", peak_multiplier=4, peak_hours_per_month=100
    )
    assert at(result, "app")["m7g.large: 3 desired, 3 at peak (min 2, max 10)"] == approx(3 * 730 * 0.08)


def test_spot_node_group_gets_the_spot_discount() -> None:
    result = estimate(stack("prod-primary-compute", COMPUTE % "SPOT"))
    assert at(result, "app")["m7g.large spot: 3 desired, 3 at peak (min 2, max 10)"] == approx(3 * 730 * 0.08 * 0.4)


PRIMARY_DB = """
resource "aws_db_instance" "writer" {
  instance_class = "db.r6g.large"
  allocated_storage = 100
  multi_az = true
  backup_retention_period = 7
  manage_master_user_password = true
}
resource "aws_db_instance" "read-replica-0" {
  instance_class = "db.r6g.large"
  replicate_source_db = "${aws_db_instance.writer.identifier}"
}
"""
# How cdktf refers to a resource of another stack (an output read through terraform_remote_state).
REMOTE = "data.terraform_remote_state.cross-stack-reference-input-prod-primary-data.outputs"
SECONDARY_DB = """
resource "aws_db_instance" "cross-region-replica" {
  instance_class = "db.r6g.large"
  replicate_source_db = "${REMOTE.cross-stack-output-aws_db_instancewriterarn}"
  backup_retention_period = 7
}
""".replace("REMOTE", REMOTE)


def test_rds_multi_az_writer_replicas_storage_backups_and_cross_region_transfer() -> None:
    resources = stack("prod-primary-data", PRIMARY_DB) + stack("prod-secondary-data", SECONDARY_DB, "us-west-2")
    result = estimate(resources)
    assert at(result, "writer") == {
        "db.r6g.large Multi-AZ writer": approx(0.20 * 2 * 730),
        "gp3 storage 100 GB Multi-AZ": approx(100 * 0.10 * 2),
        "backups beyond free (7 days)": approx(2 * 7 * 0.095),  # 2 GB/day of change kept 7 days
        "RDS-managed master password secret": approx(0.40),
    }
    assert at(result, "read-replica-0") == {
        "db.r6g.large single-AZ replica": approx(0.20 * 730),
        "gp3 storage 100 GB single-AZ": approx(100 * 0.10),  # inherits the writer's storage
    }
    assert at(result, "cross-region-replica") == {
        "db.r6g.large single-AZ cross-region replica": approx(0.20 * 730),
        "gp3 storage 100 GB single-AZ": approx(100 * 0.10),
        "backups beyond free (7 days)": approx(2 * 7 * 0.095),
        "replication from us-east-1": approx(2 * DAYS * 0.02),
    }
    transfer = next(line for line in result.lines if line.item == "replication from us-east-1")
    assert transfer.billed_region == "us-east-1"


def test_replicas_a_writer_adds_for_planned_peaks_bill_for_the_peak_and_its_lead_time() -> None:
    tagged = PRIMARY_DB.replace("  multi_az = true\n", '  multi_az = true\n  tags = { "peak-read-replicas" = "3" }\n')
    assert tagged != PRIMARY_DB
    peak = at(estimate(stack("prod-primary-data", tagged), peak_multiplier=6, peak_hours_per_month=96), "writer")
    # 3 at the peak, 1 always there: 2 more for the 96 peak hours plus 48 hours to build them beforehand.
    assert peak["2 more single-AZ replica(s) for the peak (96 h + 48 h lead)"] == approx(2 * 144 * 0.20)
    assert peak["gp3 storage of the peak replica(s) 100 GB"] == approx(2 * 144 / 730 * 100 * 0.10)
    baseline = at(estimate(stack("prod-primary-data", tagged)), "writer")  # no peak hours: nothing added
    assert baseline == at(estimate(stack("prod-primary-data", PRIMARY_DB)), "writer")


def test_elasticache_nodes_from_clusters_or_shards() -> None:
    body = """
resource "aws_elasticache_replication_group" "redis" {
  node_type = "cache.r7g.large"
  num_cache_clusters = 2
}
resource "aws_elasticache_replication_group" "sharded" {
  node_type = "cache.r7g.large"
  num_node_groups = 2
  replicas_per_node_group = 1
}
"""
    result = estimate(stack("prod-primary-data", body))
    assert at(result, "redis") == {"2 x cache.r7g.large": approx(2 * 0.20 * 730)}
    assert at(result, "sharded") == {"4 x cache.r7g.large": approx(4 * 0.20 * 730)}


def test_valkey_nodes_have_their_own_price() -> None:
    body = """
resource "aws_elasticache_replication_group" "valkey" {
  engine = "valkey"
  node_type = "cache.r7g.large"
  num_cache_clusters = 2
}
"""
    assert at(estimate(stack("prod-primary-data", body)), "valkey") == {"2 x cache.r7g.large": approx(2 * 0.16 * 730)}


NETWORK = """
resource "aws_vpc" "vpc" {
  cidr_block = "10.0.0.0/16"
}
resource "aws_eip" "nat-eip-0" {
  domain = "vpc"
}
resource "aws_nat_gateway" "nat-0" {
  allocation_id = "${aws_eip.nat-eip-0.id}"
}
resource "aws_nat_gateway" "nat-1" {
  allocation_id = "x"
}
resource "aws_vpc_endpoint" "endpoint-sqs" {
  service_name = "com.amazonaws.us-east-1.sqs"
  vpc_endpoint_type = "Interface"
  subnet_ids = ["a", "b", "c"]
}
resource "aws_vpc_endpoint" "endpoint-s3" {
  service_name = "com.amazonaws.us-east-1.s3"
  vpc_endpoint_type = "Gateway"
}
"""


def test_nat_eip_endpoints_and_inter_az_transfer() -> None:
    result = estimate(stack("prod-primary-network", NETWORK))
    for nat in ("nat-0", "nat-1"):
        assert at(result, nat) == {
            "gateway": approx(730 * 0.045),
            "data processed": approx(4 * DAYS / 2 * 0.045),  # 4 GB/day split over the stack's 2 NATs
        }
    assert at(result, "nat-eip-0") == {"public IPv4 address": approx(730 * 0.005)}
    assert at(result, "endpoint-sqs") == {
        "Interface endpoint sqs in 3 AZs": approx(3 * 730 * 0.01),
        "data processed": approx(6 * DAYS * 0.01),
    }
    assert at(result, "endpoint-s3") == {}  # gateway endpoints are free
    assert at(result, "vpc") == {"inter-AZ transfer (both directions)": approx(2 * 10 * DAYS * 0.01)}


def test_standby_region_has_fixed_costs_but_no_traffic() -> None:
    result = estimate(stack("prod-secondary-network", NETWORK, "us-west-2"))
    assert at(result, "nat-0") == {"gateway": approx(730 * 0.045), "data processed": 0.0}
    assert at(result, "vpc") == {"inter-AZ transfer (both directions)": 0.0}


EDGE = """
resource "aws_cloudfront_distribution" "cdn" {
  enabled = true
}
resource "aws_cloudfront_function" "strip" {
  runtime = "cloudfront-js-2.0"
}
resource "aws_lb" "alb" {
  load_balancer_type = "application"
  internal = false
  subnets = ["a", "b", "c"]
}
resource "aws_wafv2_web_acl" "regional" {
  scope = "REGIONAL"
  rule_json = "[{\\"Name\\":\\"a\\"},{\\"Name\\":\\"b\\"}]"
}
resource "aws_wafv2_web_acl" "edge" {
  scope = "CLOUDFRONT"
  rule {
    name = "one"
  }
  rule {
    name = "two"
  }
  rule {
    name = "three"
  }
}
"""


def test_cloudfront_alb_and_waf_from_the_traffic_profile() -> None:
    result = estimate(stack("prod-primary-edge", EDGE))
    requests = 100000 * 10 * DAYS
    gb = (GIB_PER_DAY + 10) * DAYS
    assert at(result, "cdn") == {
        "data out (US/EU)": approx(gb * 0.085),
        "HTTPS requests": approx(requests / 1e4 * 0.01),
    }
    assert at(result, "strip") == {"invocations (at most every request)": approx(requests / 1e6 * 0.10)}
    # Cache misses (10%) reach the ALB; bytes (GB/h) outweigh new connections (25/s per LCU).
    lcu = max(requests * 0.1 / HOURS / 3600 * 0.05 / 25, gb * 0.1 / HOURS)
    assert lcu == approx(gb * 0.1 / HOURS)
    assert at(result, "alb") == {
        "ALB hours": approx(730 * 0.0225),
        f"capacity units ({lcu:.3f} avg)": approx(lcu * 730 * 0.008),
        "public IPv4 in 3 AZs": approx(3 * 730 * 0.005),
    }
    assert at(result, "regional") == {
        "web ACL": 5.0,
        "2 rules": 2.0,
        "inspected requests": approx(requests * 0.1 / 1e6 * 0.60),
    }
    assert at(result, "edge") == {
        "web ACL": 5.0,
        "3 rules": 3.0,
        "inspected requests": approx(requests / 1e6 * 0.60),
    }


STORAGE = """
resource "aws_s3_bucket" "media" {
  bucket_prefix = "peakshop-prod-p-media-"
}
resource "aws_s3_bucket_lifecycle_configuration" "media-lc" {
  bucket = "${aws_s3_bucket.media.id}"
  rule {
    id = "tiering"
    status = "Enabled"
    transition {
      days = 30
      storage_class = "STANDARD_IA"
    }
    transition {
      days = 90
      storage_class = "GLACIER"
    }
  }
}
resource "aws_s3_bucket" "other" {
  bucket = "peakshop-prod-p-other"
}
"""


def test_s3_storage_by_class_over_the_lifecycle() -> None:
    result = estimate(stack("prod-primary-data", STORAGE))
    # media: 1 GB/day for 365 days -> 30 days Standard, 60 days IA, 275 days Glacier.
    assert at(result, "media") == {
        "STANDARD storage": approx(30 * 0.023),
        "STANDARD_IA storage": approx(60 * 0.0125),
        "GLACIER storage": approx(275 * 0.0036),
    }
    # no lifecycle: the default 0.5 GB/day stays in Standard.
    assert at(result, "other") == {"STANDARD storage": approx(0.5 * 365 * 0.023)}


def test_storage_by_class_with_expiry() -> None:
    held = storage_by_class(2.0, 365, [(30, "STANDARD_IA"), (90, "GLACIER"), (180, "DEEP_ARCHIVE")], 100)
    assert held == {"STANDARD": 60.0, "STANDARD_IA": 120.0, "GLACIER": 20.0}


def test_s3_cross_region_replication_is_billed_in_the_source_region() -> None:
    text = """
provider "aws" {
  region = "us-east-1"
  alias = "primary"
}
resource "aws_s3_bucket" "media-replica" {
  bucket_prefix = "peakshop-prod-s-media-replica-"
}
resource "aws_s3_bucket_replication_configuration" "replication-media" {
  provider = "aws.primary"
  bucket = "${REMOTE.cross-stack-output-aws_s3_bucketmediaid}"
  rule {
    id = "media-to-us-west-2"
    status = "Enabled"
    destination {
      bucket = "${aws_s3_bucket.media-replica.arn}"
    }
  }
}
""".replace("REMOTE", REMOTE)
    resources = stack("prod-primary-data", STORAGE) + stack("prod-secondary-data", text, "us-west-2")
    result = estimate(resources)
    assert at(result, "replication-media") == {"replication of media-to-us-west-2": approx(1 * DAYS * 0.02)}
    line = next(line for line in result.lines if line.resource.name == "replication-media")
    assert line.billed_region == "us-east-1"
    assert at(result, "media-replica") == {"STANDARD storage": approx(365 * 0.023)}


def test_sqs_requests_polls_dlq_and_fifo() -> None:
    body = """
resource "aws_sqs_queue" "orders" {
  name = "peakshop-prod-p-orders"
  receive_wait_time_seconds = 20
}
resource "aws_sqs_queue" "orders-dlq" {
  name = "peakshop-prod-p-orders-dlq"
}
resource "aws_sqs_queue" "events" {
  name = "peakshop-prod-p-events.fifo"
  fifo_queue = true
}
"""
    result = estimate(stack("prod-primary-data", body))
    messages = 1000 * 4 * DAYS / 2  # split over the 2 queues that are not DLQs
    assert at(result, "orders") == {
        "send + receive + delete": approx(3 * messages / 1e6 * 0.40),
        "long polls (2 consumers, 20s wait)": approx(2 * 730 * 3600 / 20 / 1e6 * 0.40),
    }
    assert at(result, "orders-dlq") == {"dead-letter queue (no consumers)": 0.0}
    assert at(result, "events") == {
        "send + receive + delete": approx(3 * messages / 1e6 * 0.50),
        "long polls (2 consumers, 0s wait)": approx(2 * 730 * 3600 / 1e6 * 0.50),  # short polling: 1/s
    }


def test_cloudwatch_alarms_and_log_groups() -> None:
    body = """
resource "aws_cloudwatch_metric_alarm" "simple" {
  metric_name = "5xx"
  period = 60
}
resource "aws_cloudwatch_metric_alarm" "math" {
  metric_query {
    id = "a"
    metric {
      metric_name = "x"
    }
  }
  metric_query {
    id = "b"
    metric {
      metric_name = "y"
    }
  }
  metric_query {
    id = "e"
    expression = "a/b"
  }
}
resource "aws_cloudwatch_metric_alarm" "fast" {
  period = 10
}
resource "aws_cloudwatch_log_group" "flow" {
  name = "/peakshop/prod/vpc-flow-logs"
  retention_in_days = 30
}
resource "aws_cloudwatch_log_group" "app" {
  name = "/peakshop/prod/app"
}
"""
    result = estimate(stack("prod-primary-observability", body))
    assert at(result, "simple") == {"alarm over 1 metric(s)": approx(0.10)}
    assert at(result, "math") == {"alarm over 2 metric(s)": approx(0.20)}
    assert at(result, "fast") == {"alarm over 1 metric(s)": approx(0.30)}
    assert at(result, "flow") == {
        "ingestion": approx(2.0 * DAYS * 0.50),
        "storage (30-day retention)": approx(2.0 * 30 * 0.2 * 0.03),  # 30 days kept, 0.2 compression
    }
    assert at(result, "app") == {
        "ingestion": approx(0.1 * DAYS * 0.50),
        "storage (365-day retention)": approx(0.1 * 365 * 0.2 * 0.03),  # never expires: horizon
    }
    secondary = estimate(stack("prod-secondary-observability", body, "us-west-2"))
    assert at(secondary, "flow")["ingestion"] == approx(2.0 * 0.5 * DAYS * 0.50)  # standby log share 0.5


def test_waf_log_group_behind_a_drop_filter_ingests_only_the_logged_share() -> None:
    body = """
resource "aws_cloudwatch_log_group" "%s" {
  name = "aws-waf-logs-%s"
  retention_in_days = 30
}
resource "aws_wafv2_web_acl_logging_configuration" "%s-logging" {
  log_destination_configs = ["${aws_cloudwatch_log_group.%s.arn}"]
  %s
}
"""
    drop = 'logging_filter {\n    default_behavior = "DROP"\n  }'
    resources = stack("prod-primary-edge", body % ("filtered", "a", "filtered", "filtered", drop))
    resources += stack("prod-primary-compute", body % ("full", "b", "full", "full", ""))
    result = estimate(resources)
    assert at(result, "filtered")["ingestion"] == approx(0.1 * 0.1 * DAYS * 0.50)  # waf_logged_share 0.1
    assert at(result, "full")["ingestion"] == approx(0.1 * DAYS * 0.50)  # no filter: every request


def test_cloudtrail_first_management_copy_free_data_events_paid() -> None:
    body = """
resource "aws_cloudtrail" "a" {
  name = "main"
}
resource "aws_cloudtrail" "b" {
  name = "data"
  event_selector {
    include_management_events = true
    data_resource {
      type = "AWS::S3::Object"
      values = ["arn:aws:s3"]
    }
  }
}
"""
    result = estimate(stack("prod-primary-observability", body))
    assert at(result, "a") == {"management events (first copy free)": 0.0}
    assert at(result, "b") == {
        "management events (additional copy)": approx(100000 * DAYS / 1e5 * 2.0),
        "data events": approx(200000 * DAYS / 1e5 * 0.10),
    }


def test_route53_zone_and_health_checks() -> None:
    body = """
resource "aws_route53_zone" "zone" {
  name = "peakshop.example.com"
}
resource "aws_route53_health_check" "alb" {
  type = "HTTPS"
  fqdn = "${aws_lb.alb.dns_name}"
  request_interval = 10
}
resource "aws_route53_health_check" "secondary" {
  type = "HTTPS"
  fqdn = "${REMOTE.cross-stack-output-aws_lbalbdns_name}"
}
resource "aws_route53_record" "origin" {
  name = "origin-us-east-1.peakshop.example.com"
  type = "A"
  alias {
    name = "${aws_lb.alb.dns_name}"
  }
}
resource "aws_route53_health_check" "origin" {
  type = "HTTPS"
  fqdn = "origin-us-east-1.peakshop.example.com"
  measure_latency = true
}
resource "aws_route53_health_check" "external" {
  type = "HTTP"
  fqdn = "status.example.org"
}
""".replace("REMOTE", REMOTE)
    result = estimate(stack("prod-primary-edge", body))
    assert at(result, "zone") == {"hosted zone": 0.50}
    assert at(result, "alb") == {
        "HTTPS health check (AWS endpoint)": 0.50,
        "2 optional features": approx(2 * 1.0),  # HTTPS and the 10 s interval
    }
    assert at(result, "secondary") == {"HTTPS health check (AWS endpoint)": 0.50, "1 optional features": 1.0}
    # the checked name is a record aliased to an ALB: an AWS endpoint (HTTPS + latency features)
    assert at(result, "origin") == {"HTTPS health check (AWS endpoint)": 0.50, "2 optional features": 2.0}
    assert at(result, "external") == {"HTTP health check (non-AWS endpoint)": 0.75}


def test_kms_keys_and_secrets() -> None:
    body = """
resource "aws_kms_key" "key" {
  description = "k"
}
resource "aws_secretsmanager_secret" "secret" {
  name = "s"
  replica {
    region = "us-west-2"
  }
}
"""
    result = estimate(stack("prod-primary-data", body))
    assert at(result, "key") == {"customer managed key": 1.0}
    assert at(result, "secret") == {"secret + 1 replicas": approx(2 * 0.40)}


def test_backup_plan_recovery_points_and_cross_region_copies() -> None:
    body = """
resource "aws_backup_vault" "vault" {
  name = "v"
}
resource "aws_backup_plan" "plan" {
  name = "p"
  rule {
    rule_name = "daily"
    target_vault_name = "v"
    lifecycle {
      delete_after = 35
    }
    copy_action {
      destination_vault_arn = "${data.terraform_remote_state.x.outputs.vault}"
      lifecycle {
        delete_after = 14
      }
    }
  }
}
"""
    resources = (
        stack("prod-primary-data", PRIMARY_DB)
        + stack("prod-primary-dr", body)
        + stack("prod-secondary-dr", 'resource "aws_kms_key" "k" {\n}\n', "us-west-2")
    )
    result = estimate(resources)
    assert at(result, "vault") == {}
    assert at(result, "plan") == {
        "daily: RDS recovery points kept 35 days": approx((100 + 2 * 35) * 0.05),  # full + daily change
        "daily: RDS copy to us-west-2": approx(2 * DAYS * 0.02),
        "daily: RDS copies kept 14 days in us-west-2": approx((100 + 2 * 14) * 0.05),
    }


def test_backup_rules_into_one_vault_share_one_full_copy() -> None:
    """Daily and monthly rules back up the same database into the same vault: one full copy plus the change
    kept for the longest retention (increments), not a full copy per rule; the copies likewise, transferred once."""
    rules = "".join(
        f"""
  rule {{
    rule_name = "{name}"
    target_vault_name = "v"
    lifecycle {{
      delete_after = {days}
    }}
    copy_action {{
      destination_vault_arn = "standby"
      lifecycle {{
        delete_after = {days}
      }}
    }}
  }}"""
        for name, days in (("daily", 35), ("monthly", 365))
    )
    body = f'resource "aws_backup_plan" "plan" {{\n  name = "p"{rules}\n}}\n'
    resources = (
        stack("prod-primary-data", PRIMARY_DB)
        + stack("prod-primary-dr", body)
        + stack("prod-secondary-dr", 'resource "aws_kms_key" "k" {\n}\n', "us-west-2")
    )
    result = estimate(resources)
    assert at(result, "plan") == {
        "daily+monthly: RDS recovery points kept 365 days": approx((100 + 2 * 365) * 0.05),
        "daily+monthly: RDS copy to us-west-2": approx(2 * DAYS * 0.02),
        "daily+monthly: RDS copies kept 365 days in us-west-2": approx((100 + 2 * 365) * 0.05),
    }


def test_backup_plan_prices_what_its_selection_protects() -> None:
    body = """
resource "aws_backup_plan" "plan" {
  name = "p"
  rule {
    rule_name = "monthly"
    lifecycle {
      delete_after = 365
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
    resources = stack("prod-primary-data", PRIMARY_DB + STORAGE) + stack("prod-primary-dr", body)
    result = estimate(resources)
    assert at(result, "plan") == {
        "monthly: RDS recovery points kept 365 days": approx((100 + 2 * 365) * 0.05),
        # media holds 365 GB (1 GB/day for the 365-day horizon); objects are added, never rewritten
        "monthly: S3 recovery points kept 365 days": approx(365 * 0.04),
    }


def test_ecr_repositories_and_replication() -> None:
    body = """
resource "aws_ecr_repository" "catalog" {
  name = "catalog"
}
resource "aws_ecr_repository" "cart" {
  name = "cart"
}
resource "aws_ecr_replication_configuration" "replication" {
  replication_configuration {
    rule {
      destination {
        region = "us-west-2"
        registry_id = "123"
      }
    }
  }
}
"""
    result = estimate(stack("prod-primary-compute", body))
    assert at(result, "catalog") == {"image storage": approx(3 * 0.10)}
    assert at(result, "replication") == {
        "replicating 2 repositories": approx(6 * 0.02),
        "replica storage in us-west-2": approx(6 * 0.10),
    }


def test_unknown_types_are_unpriced_and_free_types_are_not() -> None:
    body = """
resource "aws_iam_role" "role" {
  name = "r"
}
resource "aws_shiny_new_service" "thing" {
  name = "t"
}
resource "aws_eks_node_group" "odd" {
  instance_types = ["x9.mega"]
  scaling_config {
    desired_size = 1
    max_size = 2
    min_size = 1
  }
}
"""
    result = estimate(stack("prod-primary-compute", body))
    unpriced = {u.type: u.reason for u in result.unpriced}
    assert unpriced["aws_shiny_new_service"] == "no pricing rule for this type"
    assert "ec2_hour:x9.mega" in unpriced["aws_eks_node_group"]  # a rule without a price is not zero either
    assert "aws_iam_role" not in unpriced
    assert result.lines == []


def test_totals_are_the_sum_of_lines_by_layer_and_region() -> None:
    resources = (
        stack("prod-primary-network", NETWORK)
        + stack("prod-primary-data", PRIMARY_DB + STORAGE)
        + stack("prod-secondary-data", SECONDARY_DB, "us-west-2")
        + stack("prod-primary-compute", COMPUTE % "ON_DEMAND")
    )
    result = estimate(resources)
    total = sum(line.monthly_usd for line in result.lines)
    assert result.monthly_usd == approx(total)
    assert sum(result.by_layer.values()) == approx(total)
    assert sum(result.by_region.values()) == approx(total)
    assert set(result.by_layer) == {"network", "data", "compute"}
    assert result.role_total("primary") + result.role_total("secondary") == approx(total)


def test_a_resource_added_to_a_stack_appears_in_the_estimate() -> None:
    before = estimate(stack("prod-primary-network", NETWORK))
    added = NETWORK + 'resource "aws_nat_gateway" "nat-2" {\n  allocation_id = "y"\n}\n'
    after = estimate(stack("prod-primary-network", added))
    assert "prod-primary-network/aws_nat_gateway.nat-2" in {line.resource.address for line in after.lines}
    # One more gateway-month; the NAT data volume is the same, now split three ways.
    assert after.monthly_usd - before.monthly_usd == approx(730 * 0.045)


def test_every_rule_type_is_priced_or_free_never_both() -> None:
    assert not set(RULES) & set(FREE_TYPES)
    assert all(t.startswith("aws_") for t in [*RULES, *FREE_TYPES])
    assert not math.isnan(estimate([]).monthly_usd)


def test_shared_pipeline_stack_codebuild_and_codepipeline() -> None:
    body = """
resource "aws_codestarconnections_connection" "github" {
  name = "gh"
}
resource "aws_codebuild_project" "verify" {
  environment {
    compute_type = "BUILD_GENERAL1_LARGE"
    type = "LINUX_CONTAINER"
  }
}
resource "aws_codepipeline" "pipeline" {
  pipeline_type = "V2"
  stage {
    name = "Source"
    action {
      category = "Source"
    }
  }
  stage {
    name = "Verify"
    action {
      category = "Build"
    }
    action {
      category = "Build"
    }
  }
  stage {
    name = "Approve"
    action {
      category = "Approval"
    }
  }
}
"""
    resources = stack("shared-pipeline", body)
    assert {(r.stage, r.role, r.layer) for r in resources} == {("shared", "primary", "pipeline")}
    result = estimate(resources, "shared")
    assert at(result, "verify") == {"BUILD_GENERAL1_LARGE builds": approx(100 * 10 * 0.02)}  # runs x minutes
    assert at(result, "pipeline") == {"V2 pipeline, 2 build/deploy actions": approx(100 * 2 * 10 * 0.002)}
    assert result.unpriced == []


def test_smaller_rules_asg_volume_lambda_cache_cluster_ops() -> None:
    body = """
resource "aws_launch_template" "lt" {
  instance_type = "m7g.large"
}
resource "aws_autoscaling_group" "asg" {
  name = "peakshop-prod-p-system-asg"
  min_size = 1
  desired_capacity = 2
  max_size = 4
  launch_template {
    id = "${aws_launch_template.lt.id}"
  }
}
resource "aws_ebs_volume" "vol" {
  size = 100
}
resource "aws_lambda_function" "fn" {
  memory_size = 512
}
resource "aws_elasticache_cluster" "memcached" {
  node_type = "cache.r7g.large"
  num_cache_nodes = 3
}
resource "aws_cloudwatch_composite_alarm" "impact" {
  alarm_name = "impact"
}
resource "aws_cloudwatch_dashboard" "board" {
  dashboard_name = "d"
}
resource "aws_cloudwatch_log_metric_filter" "filter" {
  metric_transformation {
    name = "m"
  }
}
resource "aws_sfn_state_machine" "failover" {
  name = "f"
}
resource "aws_fis_experiment_template" "drill" {
  action {
    name = "a"
  }
  action {
    name = "b"
  }
}
resource "aws_kms_replica_key" "replica" {
  description = "r"
}
"""
    result = estimate(stack("prod-primary-ops", body))
    assert at(result, "asg") == {
        "m7g.large: 2 desired, 2 at peak (min 1, max 4)": approx(2 * 730 * 0.08),
        "node volumes 20 GB gp3": approx(2 * 20 * 0.08),
    }
    assert at(result, "vol") == {"volume (gp3 rate)": approx(100 * 0.08)}
    assert at(result, "fn") == {
        "requests": approx(0.1 * 0.20),
        "compute at 0.2s": approx(100000 * 0.2 * 0.5 * 0.00001),
    }
    assert at(result, "memcached") == {"3 x cache.r7g.large": approx(3 * 730 * 0.20)}
    assert at(result, "impact") == {"composite alarm": 0.50}
    assert at(result, "board") == {"dashboard": 3.0}
    assert at(result, "filter") == {"custom metric from log filter": approx(0.30)}
    assert at(result, "failover") == {"state transitions": approx(2 * 0.025)}
    assert at(result, "drill") == {"2 actions during drills": approx(2 * 30 * 0.10)}
    assert at(result, "replica") == {"customer managed key": 1.0}


def test_action_enabled_budgets_beyond_two_are_paid() -> None:
    body = "".join(f'resource "aws_budgets_budget_action" "a{i}" {{\n  budget_name = "b"\n}}\n' for i in range(3))
    result = estimate(stack("prod-primary-observability", body))
    assert at(result, "a0") == {"action-enabled budget": 0.0}
    assert at(result, "a1") == {"action-enabled budget": 0.0}
    assert at(result, "a2") == {"action-enabled budget": approx(DAYS * 0.10)}
