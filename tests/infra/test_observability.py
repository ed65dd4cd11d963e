"""Properties of the observability layer over every stage and role: every alarm pages through the
alerts topic, every DLQ and database has its alarms, the trail is what PCI DSS 10 asks for, costs have
guardrails."""

from __future__ import annotations

import json
import re

from peakshop_constructs.audit_trail import SECURITY_EVENTS
from stacks.config import ROLES, STAGE_NAMES
from stacks.workloads import QUEUES, WEB_SERVICES
from tests.infra.synthesized import Platform, all_resources, ref_name, resources

ALARM_TYPES = ("aws_cloudwatch_metric_alarm", "aws_cloudwatch_composite_alarm")


def alerts_topic(doc: dict) -> str:
    (key,) = [k for k, t in resources(doc, "aws_sns_topic").items() if t["name"].endswith("-alerts")]
    return key


def test_every_alarm_in_every_stack_notifies_the_alerts_topic(platform: Platform) -> None:
    count = 0
    for stack, doc in platform.docs.items():
        for alarm_type in ALARM_TYPES:
            for key, alarm in resources(doc, alarm_type).items():
                count += 1
                topic = alerts_topic(doc)
                assert alarm["alarm_actions"] == [f"${{aws_sns_topic.{topic}.arn}}"], (stack, key)
                assert alarm["ok_actions"] == alarm["alarm_actions"], (stack, key)
    assert count > 100


def test_alerts_topics_are_kms_encrypted_tls_only_with_email_subscriptions(platform: Platform) -> None:
    for stack, doc in platform.layer_docs("observability").items():
        topic_key = alerts_topic(doc)
        topic = resources(doc, "aws_sns_topic")[topic_key]
        assert topic["kms_master_key_id"].startswith("${aws_kms_key."), stack
        emails = {s["endpoint"] for s in resources(doc, "aws_sns_topic_subscription").values()}
        assert emails == set(platform.config.stages[stack.split("-")[0]].alert_emails)


def test_every_dlq_has_a_depth_alarm_and_every_queue_an_age_alarm(platform: Platform) -> None:
    for stage in STAGE_NAMES:
        for role in ROLES:
            data = platform.docs[f"{stage}-{role}-data"]
            alarms = resources(platform.docs[f"{stage}-{role}-observability"], "aws_cloudwatch_metric_alarm")
            by_queue = {}
            for alarm in alarms.values():
                if alarm.get("namespace") == "AWS/SQS":
                    by_queue.setdefault(alarm["dimensions"]["QueueName"], []).append(alarm)
            queues = resources(data, "aws_sqs_queue")
            dlqs = [k for k, q in queues.items() if q["name"].endswith("-dlq")]
            assert len(dlqs) == len(QUEUES)
            for key in queues:
                (expression,) = [e for e in by_queue if f"aws_sqs_queue{key}name" in e]
                metrics = {a["metric_name"]: a for a in by_queue[expression]}
                if key in dlqs:
                    depth = metrics["ApproximateNumberOfMessagesVisible"]
                    assert depth["threshold"] == 0 and depth["comparison_operator"] == "GreaterThanThreshold"
                    assert depth["evaluation_periods"] == 1
                else:
                    age = metrics["ApproximateAgeOfOldestMessage"]
                    assert age["threshold"] == platform.config.stages[stage].alarms.queue_oldest_message_s


def test_every_database_and_redis_node_has_its_alarms(platform: Platform) -> None:
    for stage in STAGE_NAMES:
        config = platform.config.stages[stage]
        for role in ROLES:
            data = platform.docs[f"{stage}-{role}-data"]
            alarms = resources(platform.docs[f"{stage}-{role}-observability"], "aws_cloudwatch_metric_alarm")
            for key, db in resources(data, "aws_db_instance").items():
                metrics = {
                    a["metric_name"]
                    for a in alarms.values()
                    if f"aws_db_instance{key}identifier" in a.get("dimensions", {}).get("DBInstanceIdentifier", "")
                }
                expected = {"CPUUtilization", "FreeStorageSpace", "DatabaseConnections"}
                if "replicate_source_db" in db:
                    expected.add("ReplicaLag")
                assert metrics == expected, (stage, role, key)
            redis = {a["metric_name"] for a in alarms.values() if a.get("namespace") == "AWS/ElastiCache"}
            assert redis == {"EngineCPUUtilization", "Evictions", "ReplicationLag"}
            nodes = {
                a["dimensions"]["CacheClusterId"] for a in alarms.values() if a.get("namespace") == "AWS/ElastiCache"
            }
            assert len(nodes) == config.sizes.cache_nodes


def test_one_multi_region_validated_encrypted_trail_per_stage(platform: Platform) -> None:
    trails = list(all_resources(platform.docs, "aws_cloudtrail"))
    assert sorted(stack for stack, _, _ in trails) == sorted(f"{s}-primary-observability" for s in STAGE_NAMES)
    for stack, _key, trail in trails:
        doc = platform.docs[stack]
        assert trail["is_multi_region_trail"] is True and trail["include_global_service_events"] is True
        assert trail["enable_log_file_validation"] is True
        assert trail["kms_key_id"].startswith("${aws_kms_key.")
        group = resources(doc, "aws_cloudwatch_log_group")[ref_name(trail["cloud_watch_logs_group_arn"])]
        assert group["retention_in_days"] >= 365  # PCI DSS 10.5.1
        bucket = ref_name(trail["s3_bucket_name"])
        locks = [c for c in resources(doc, "aws_s3_bucket_object_lock_configuration").values() if bucket in c["bucket"]]
        if stack.startswith("prod-"):
            (lock,) = locks
            assert lock["rule"]["default_retention"] == {"mode": "COMPLIANCE", "days": 365}
            assert resources(doc, "aws_s3_bucket")[bucket]["object_lock_enabled"] is True
        filters = {
            f["metric_transformation"]["name"] for f in resources(doc, "aws_cloudwatch_log_metric_filter").values()
        }
        assert filters == set(SECURITY_EVENTS)
        alarmed = {a.get("metric_name") for a in resources(doc, "aws_cloudwatch_metric_alarm").values()}
        assert filters <= alarmed


def test_cost_guardrails_notify_the_alerts_topic(platform: Platform) -> None:
    for stage in STAGE_NAMES:
        doc = platform.docs[f"{stage}-primary-observability"]
        topic = f"${{aws_sns_topic.{alerts_topic(doc)}.arn}}"
        (budget,) = resources(doc, "aws_budgets_budget").values()
        assert budget["limit_amount"] == str(platform.config.stages[stage].monthly_budget_usd)
        assert budget["time_unit"] == "MONTHLY"
        kinds = {n["notification_type"] for n in budget["notification"] if n["subscriber_sns_topic_arns"] == [topic]}
        assert kinds == {"ACTUAL", "FORECASTED"}
        (subscription,) = resources(doc, "aws_ce_anomaly_subscription").values()
        assert subscription["subscriber"] == [{"type": "SNS", "address": topic}]
        assert subscription["monitor_arn_list"][0].startswith("${aws_ce_anomaly_monitor.")
        rules = {
            k: r
            for k, r in resources(doc, "aws_cloudwatch_event_rule").items()
            if "trustedadvisor" in r["event_pattern"]
        }
        targets = [t for t in resources(doc, "aws_cloudwatch_event_target").values() if ref_name(t["rule"]) in rules]
        assert any(t["arn"] == topic for t in targets)
        assert platform.config.stages[stage].primary.region == "us-east-1"  # the rule's own region then
        assert not resources(platform.docs[f"{stage}-secondary-observability"], "aws_budgets_budget")


def test_a_dashboard_per_stage_and_region_shows_every_alarm(platform: Platform) -> None:
    for stack, doc in platform.layer_docs("observability").items():
        (dashboard,) = resources(doc, "aws_cloudwatch_dashboard").values()
        assert dashboard["dashboard_body"] == "${jsonencode(local.dashboard_body)}"
        body = json.dumps(doc["locals"]["dashboard_body"])
        for key in resources(doc, "aws_cloudwatch_metric_alarm"):
            assert f"aws_cloudwatch_metric_alarm.{key}.arn" in body, (stack, key)


def test_trusted_advisor_event_pattern_is_valid_json(platform: Platform) -> None:
    for _stack, _key, rule in all_resources(platform.layer_docs("observability"), "aws_cloudwatch_event_rule"):
        assert json.loads(rule["event_pattern"])["source"] == ["aws.trustedadvisor"]


def test_load_balancer_and_target_group_alarms_cover_every_web_service(platform: Platform) -> None:
    for stack, doc in platform.layer_docs("observability").items():
        stage = platform.config.stages[stack.split("-")[0]]
        alarms = resources(doc, "aws_cloudwatch_metric_alarm").values()
        by_metric: dict[str, list[dict]] = {}
        for alarm in alarms:
            by_metric.setdefault(alarm.get("metric_name", "math"), []).append(alarm)
        latency = by_metric["TargetResponseTime"]
        assert len(latency) == len(WEB_SERVICES) == len(by_metric["UnHealthyHostCount"]), stack
        assert all(
            a["extended_statistic"] == "p99" and a["threshold"] == stage.alarms.target_p99_ms / 1000 for a in latency
        )
        assert all("aws_lb_target_group" in a["dimensions"]["TargetGroup"] for a in latency)
        (rate,) = [a for a in alarms if a["alarm_name"].endswith("-alb-5xx-rate")]
        assert rate["threshold"] == stage.alarms.alb_5xx_percent
        metrics = {q["metric"]["metric_name"] for q in rate["metric_query"] if "metric" in q}
        assert metrics == {"HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count", "RequestCount"}
        waf = by_metric["BlockedRequests"]
        assert len(waf) == (2 if "-primary-" in stack else 1)


def test_the_composite_customer_impact_alarm_watches_errors_and_latency(platform: Platform) -> None:
    for stack, doc in platform.layer_docs("observability").items():
        (composite,) = resources(doc, "aws_cloudwatch_composite_alarm").values()
        names = {a["alarm_name"] for a in resources(doc, "aws_cloudwatch_metric_alarm").values()}
        referenced = set(re.findall(r'ALARM\("([^"]+)"\)', composite["alarm_rule"]))
        assert referenced <= names, stack  # every rule term is an alarm of this stack
        assert any(n.endswith("-alb-5xx-rate") for n in referenced)
        assert sum(n.endswith("-p99-latency") for n in referenced) == len(WEB_SERVICES)
        assert any(n.endswith("-cloudfront-5xx-rate") for n in referenced) == ("-primary-" in stack)


def test_container_insights_runs_and_the_node_count_alarm_uses_the_groups_minimum(platform: Platform) -> None:
    for stack, doc in platform.layer_docs("observability").items():
        stage = platform.config.stages[stack.split("-")[0]]
        (addon,) = resources(doc, "aws_eks_addon").values()
        assert addon["addon_name"] == "amazon-cloudwatch-observability"
        assert addon["pod_identity_association"][0]["service_account"] == "cloudwatch-agent"
        groups = [g["name"] for g in resources(doc, "aws_cloudwatch_log_group").values()]
        assert sum(g.startswith("/aws/containerinsights/") for g in groups) == 4, stack
        (count,) = [
            a
            for a in resources(doc, "aws_cloudwatch_metric_alarm").values()
            if a.get("metric_name") == "cluster_node_count"
        ]
        app = stage.sizes.app_nodes if "-primary-" in stack else stage.sizes.secondary_app_nodes
        assert count["threshold"] == stage.sizes.system_nodes.min_size + app.min_size
        assert count["comparison_operator"] == "LessThanThreshold"
