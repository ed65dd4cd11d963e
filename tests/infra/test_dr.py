"""Properties of the dr layer: backups are encrypted, locked in prod and copied to the other region; the
failover runbook promotes, scales and moves DNS in that order with a least-privilege role."""

from __future__ import annotations

import json
import re

from stacks.config import ROLES, STAGE_NAMES
from stacks.dr import MONTHLY_RETENTION_DAYS
from stacks.failover import FailoverPlan, NodeGroupTarget, definition
from tests.infra.synthesized import Platform, data_sources, ref_name, resources

REMOTE_VAULT = re.compile(r"cross-stack-reference-input-(\w+)-(primary|secondary)-dr\.outputs\..*aws_backup_vault")


def provider_region(doc: dict) -> str:
    (default,) = [p for p in doc["provider"]["aws"] if "alias" not in p]
    return default["region"]


def test_every_backup_copy_targets_the_other_regions_vault(platform: Platform) -> None:
    copies = 0
    for stage in STAGE_NAMES:
        primary = platform.docs[f"{stage}-primary-dr"]
        secondary = platform.docs[f"{stage}-secondary-dr"]
        assert provider_region(primary) != provider_region(secondary)
        for plan in resources(primary, "aws_backup_plan").values():
            for rule in plan["rule"]:
                assert rule["target_vault_name"].startswith("${aws_backup_vault.")  # this region's vault
                (copy,) = rule["copy_action"]
                match = REMOTE_VAULT.search(copy["destination_vault_arn"])
                assert match and match.groups() == (stage, "secondary"), copy
                assert copy["lifecycle"] == rule["lifecycle"]
                copies += 1
        assert not resources(secondary, "aws_backup_plan")  # the standby is a copy target only
    assert copies == 2 * len(STAGE_NAMES)


def test_plans_have_daily_and_monthly_rules_with_cold_storage(platform: Platform) -> None:
    for stack, doc in platform.layer_docs("dr").items():
        for plan in resources(doc, "aws_backup_plan").values():
            rules = {r["rule_name"]: r for r in plan["rule"]}
            assert set(rules) == {"daily", "monthly"}, stack
            monthly = rules["monthly"]["lifecycle"]
            assert monthly["delete_after"] >= monthly["cold_storage_after"] + 90  # AWS Backup minimum in cold


def test_backups_cover_the_database_and_the_buckets(platform: Platform) -> None:
    for stage in STAGE_NAMES:
        doc = platform.docs[f"{stage}-primary-dr"]
        (selection,) = resources(doc, "aws_backup_selection").values()
        sources = " ".join(selection["resources"])
        assert "aws_db_instancewriterarn" in sources
        for bucket in ("media", "storefront"):
            assert f"bucket-{bucket}_bucket" in sources
        assert "bucket-backups_bucket" not in sources  # object-locked in prod instead, not kept twice more
        assert "audit_bucket" in sources  # the CloudTrail bucket gets an off-region copy too
        role = resources(doc, "aws_iam_role")[ref_name(selection["iam_role_arn"])]
        trust = data_sources(doc, "aws_iam_policy_document")[ref_name(role["assume_role_policy"])]
        assert trust["statement"][0]["principals"] == [{"type": "Service", "identifiers": ["backup.amazonaws.com"]}]


def test_prod_backups_bucket_and_its_replica_are_object_locked(platform: Platform) -> None:
    """In place of AWS Backup: COMPLIANCE mode, as long as the monthly recovery points were kept; prod only,
    like the vault lock."""
    for stage in STAGE_NAMES:
        for role in ROLES:
            doc = platform.docs[f"{stage}-{role}-data"]
            buckets = resources(doc, "aws_s3_bucket")
            locks = {
                ref_name(c["bucket"]): c for c in resources(doc, "aws_s3_bucket_object_lock_configuration").values()
            }
            enabled = {k for k, b in buckets.items() if b.get("object_lock_enabled")}
            if stage != "prod":
                assert not locks and not enabled, (stage, role)
                continue
            (backups,) = [k for k, b in buckets.items() if "-backups-" in b["bucket_prefix"]]
            assert set(locks) == enabled == {backups}, (stage, role)
            retention = locks[backups]["rule"]["default_retention"]
            assert retention == {"mode": "COMPLIANCE", "days": MONTHLY_RETENTION_DAYS}, (stage, role)


def test_vaults_are_kms_encrypted_and_locked_in_prod(platform: Platform) -> None:
    for stack, doc in platform.layer_docs("dr").items():
        (vault,) = resources(doc, "aws_backup_vault").values()
        assert vault["kms_key_arn"].startswith("${aws_kms_key."), stack
        locks = list(resources(doc, "aws_backup_vault_lock_configuration").values())
        if stack.startswith("prod-"):
            (lock,) = locks
            assert lock["min_retention_days"] >= 7 and "changeable_for_days" in lock
        (notifications,) = resources(doc, "aws_backup_vault_notifications").values()
        assert "BACKUP_JOB_FAILED" in notifications["backup_vault_events"]


def test_the_failover_runbook_lives_in_the_secondary_region_only(platform: Platform) -> None:
    for stage in STAGE_NAMES:
        assert not resources(platform.docs[f"{stage}-primary-dr"], "aws_sfn_state_machine")
        doc = platform.docs[f"{stage}-secondary-dr"]
        (machine,) = resources(doc, "aws_sfn_state_machine").values()
        assert machine["tracing_configuration"]["enabled"] is True
        assert machine["logging_configuration"]["level"] == "ALL"
        assert machine["definition"] == "${jsonencode(local.failover_definition)}"
        definition_text = json.dumps(doc["locals"]["failover_definition"])
        assert "rds:promoteReadReplica" in definition_text
        assert f"cross-stack-reference-input-{stage}-secondary-data" in definition_text


def test_failover_role_touches_only_the_standby_database_cache_and_the_alerts_topic(platform: Platform) -> None:
    for stage in STAGE_NAMES:
        doc = platform.docs[f"{stage}-secondary-dr"]
        document = data_sources(doc, "aws_iam_policy_document")
        (permissions,) = [d for k, d in document.items() if k.startswith("failover-permissions")]
        for statement in permissions["statement"]:
            if statement["resources"] == ["*"]:
                assert all(a.startswith(("logs:", "xray:")) for a in statement["actions"]), statement
            if any(a.startswith("rds:") for a in statement["actions"]):
                (arn,) = statement["resources"]
                assert f"{stage}-secondary-data" in arn and "aws_db_instance" in arn
            if any(a.startswith("elasticache:") for a in statement["actions"]):
                assert statement["actions"] == ["elasticache:ModifyReplicationGroup"]
                (arn,) = statement["resources"]
                assert f"{stage}-secondary-data" in arn and "aws_elasticache_replication_group" in arn


def test_failover_definition_orders_promote_scale_dns_report() -> None:
    plan = FailoverPlan(
        db_instance="db",
        backup_retention_days=7,
        alerts_topic_arn="arn:aws:sns:us-west-2:1:alerts",
        node_groups=[NodeGroupTarget("cluster", "app", 3, 3, 30), NodeGroupTarget("cluster", "system", 2, 2, 3)],
        cache_group="redis",
        cache_node_type="cache.m7g.large",
        primary_health_check_id="hc-1",
    )
    states = definition(plan)["States"]
    path, state = [], "PromoteReplica"
    while state != "ReportSuccess":
        path.append(state)
        state = states[state]["Next"] if states[state]["Type"] != "Choice" else states[state]["Choices"][0]["Next"]
    assert path == [
        "PromoteReplica", "WaitForPromotion", "DescribeWriter", "IsWriterAvailable", "EnableMultiAz",
        "ScaleNodeGroup0", "ScaleNodeGroup1", "ScaleCache", "FailPrimaryHealthCheck",
    ]  # fmt: skip
    assert states["ScaleCache"]["Parameters"] == {
        "ReplicationGroupId": "redis",
        "CacheNodeType": "cache.m7g.large",
        "ApplyImmediately": True,
    }
    assert states["ScaleNodeGroup0"]["Parameters"]["ScalingConfig"] == {"MinSize": 3, "DesiredSize": 3, "MaxSize": 30}
    assert states["FailPrimaryHealthCheck"]["Parameters"] == {"HealthCheckId": "hc-1", "Inverted": True}
    assert states["IsWriterAvailable"]["Default"] == "WaitForPromotion"
    tasks = [s for s in states.values() if s["Type"] == "Task" and "aws-sdk" in s["Resource"]]
    assert all(t["Catch"][0]["Next"] == "ReportFailure" for t in tasks)


def test_every_fis_template_stops_on_the_customer_impact_alarm(platform: Platform) -> None:
    for stage in STAGE_NAMES:
        doc = platform.docs[f"{stage}-primary-dr"]
        templates = {t["tags"]["Name"]: t for t in resources(doc, "aws_fis_experiment_template").values()}
        assert set(templates) == {"database-failover", "pod-delete", "az-app-nodes"}
        for name, template in templates.items():
            (stop,) = template["stop_condition"]
            assert stop["source"] == "aws:cloudwatch:alarm", name
            assert f"{stage}-primary-observability" in stop["value"] and "composite_alarm" in stop["value"]
        actions = {name: t["action"][0] for name, t in templates.items()}
        assert actions["database-failover"]["action_id"] == "aws:rds:reboot-db-instances"
        force = {p["key"]: p["value"] for p in actions["database-failover"]["parameter"]}["forceFailover"]
        assert force == ("true" if platform.config.stages[stage].sizes.db_multi_az else "false")
        assert actions["pod-delete"]["action_id"] == "aws:eks:pod-delete"
        assert actions["az-app-nodes"]["action_id"] == "aws:ec2:stop-instances"
        (target,) = templates["az-app-nodes"]["target"]
        filters = {f["path"]: f["values"] for f in target["filter"]}
        assert filters["Placement.AvailabilityZone"] == [platform.config.stages[stage].primary.azs[0]]
        assert target["resource_tag"][0]["key"] == "eks:nodegroup-name"


def test_the_fis_role_can_only_touch_the_writer_and_the_app_nodes(platform: Platform) -> None:
    for stage in STAGE_NAMES:
        doc = platform.docs[f"{stage}-primary-dr"]
        documents = data_sources(doc, "aws_iam_policy_document")
        (permissions,) = [d for k, d in documents.items() if k.startswith("drills_permissions")]
        for statement in permissions["statement"]:
            if statement["resources"] == ["*"]:
                assert statement["actions"] == ["ec2:DescribeInstances"]
            if "ec2:StopInstances" in statement["actions"]:
                (condition,) = statement["condition"]
                assert condition["variable"] == "aws:ResourceTag/eks:nodegroup-name"


def test_failover_scales_the_standby_app_nodes_and_cache_and_fails_the_primary_health_check(platform: Platform) -> None:
    for stage in STAGE_NAMES:
        doc = platform.docs[f"{stage}-secondary-dr"]
        states = doc["locals"]["failover_definition"]["States"]
        scaling = states["ScaleNodeGroup0"]["Parameters"]
        size = platform.config.stages[stage].sizes.app_nodes
        assert scaling["ScalingConfig"] == {
            "MinSize": size.min_size,
            "DesiredSize": size.desired_size,
            "MaxSize": size.max_size,
        }
        assert f"{stage}-secondary-compute" in scaling["NodegroupName"]
        sizes = platform.config.stages[stage].sizes
        (cache,) = resources(platform.docs[f"{stage}-secondary-data"], "aws_elasticache_replication_group").values()
        assert cache["node_type"] == sizes.secondary_cache_node_type != sizes.cache_node_type
        assert states["ScaleCache"]["Parameters"]["CacheNodeType"] == sizes.cache_node_type
        assert f"{stage}-secondary-data" in states["ScaleCache"]["Parameters"]["ReplicationGroupId"]
        check = states["FailPrimaryHealthCheck"]["Parameters"]
        assert check["Inverted"] is True and f"{stage}-primary-edge" in check["HealthCheckId"]
