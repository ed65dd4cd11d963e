"""observability layer: the alerts topic every alarm notifies, alarms over the data (and, when given, the
compute and edge) layers, a composite customer-impact alarm and a dashboard per stage and region; in the
primary role also the account's audit trail and the cost guardrails (budget, anomaly detection, Trusted
Advisor forwarding), which are account-wide and must exist once."""

from __future__ import annotations

import json
from typing import Any

from cdktf import Fn, TerraformLocal
from cdktf_cdktf_provider_aws.budgets_budget import BudgetsBudget, BudgetsBudgetCostFilter, BudgetsBudgetNotification
from cdktf_cdktf_provider_aws.ce_anomaly_monitor import CeAnomalyMonitor
from cdktf_cdktf_provider_aws.ce_anomaly_subscription import (
    CeAnomalySubscription,
    CeAnomalySubscriptionSubscriber,
    CeAnomalySubscriptionThresholdExpression,
    CeAnomalySubscriptionThresholdExpressionDimension,
)
from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from peakshop_constructs.alarms import Alarms, Metric
from peakshop_constructs.alerts import AlertsTopic
from peakshop_constructs.audit_trail import AuditTrail, TrailSettings
from peakshop_constructs.container_insights import METRIC_NAMESPACE as CONTAINER_INSIGHTS
from peakshop_constructs.container_insights import ContainerInsights
from peakshop_constructs.policy import Statement, assume_role_policy, policy_document
from stacks.base import LayerStack
from stacks.compute import ComputeStack
from stacks.config import Role, StageConfig
from stacks.data import DataStack
from stacks.edge import EdgeStack
from stacks.network import NetworkStack

GIB = 1024**3
TRUSTED_ADVISOR_REGION = "us-east-1"  # Trusted Advisor emits its events there only
BUDGET_ALERTS = (("ACTUAL", 80), ("FORECASTED", 100))  # percent of the monthly budget
ANOMALY_IMPACT_USD = 100


class ObservabilityStack(LayerStack):
    layer = "observability"

    def __init__(
        self,
        scope: Construct,
        stage: StageConfig,
        role: Role,
        *,
        network: NetworkStack,
        data: DataStack,
        compute: ComputeStack,
        edge: EdgeStack | None = None,
    ) -> None:
        super().__init__(scope, stage, role)
        if (role == "primary") != (edge is not None):
            raise ValueError("the primary observability stack, and only it, watches the edge (CloudFront, us-east-1)")
        self.network = network
        self.data = data
        self.compute = compute
        self.edge = edge
        self.thresholds = stage.alarms
        self.log_retention = max(stage.sizes.log_retention_days, 365)  # PCI DSS 10.5.1: 12 months
        self.alerts = AlertsTopic(
            self,
            "alerts",
            name=f"{self.prefix}-alerts",
            account_id=self.caller.account_id,
            account_root_arn=self.account_root_arn,
            emails=stage.alert_emails,
        )
        self.alarms = Alarms(self, self.prefix, self.alerts.arn)
        self._database_alarms()
        self._cache_alarms()
        self._queue_alarms()
        impact = self._load_balancer_alarms()
        self._cluster_alarms()
        if edge is not None:
            impact += self._edge_alarms(edge)
        self.customer_impact = self.alarms.any_of(
            "customer-impact",
            "Customers see errors or slow pages in this region: the stop condition of every FIS drill",
            impact,
        )
        if role == "primary":
            self.trail = AuditTrail(
                self,
                "audit",
                settings=TrailSettings(
                    name=f"peakshop-{stage.name}",
                    log_retention_days=self.log_retention,
                    object_lock_days=365 if stage.name == "prod" else None,
                    access_log_bucket=data.buckets["logs"].name,
                    force_destroy=stage.name == "dev",
                ),
                region=self.region.region,
                partition=self.partition.partition,
                account_id=self.caller.account_id,
                account_root_arn=self.account_root_arn,
                alarms=self.alarms,
            )
            self._cost_guardrails()
        self._dashboard()

    # ------------------------------------------------------------------------------------------------ data
    def _database_alarms(self) -> None:
        t = self.thresholds
        free_bytes = self.stage.sizes.db_allocated_storage_gb * GIB * t.rds_free_storage_percent / 100
        instances = [("writer", self.data.writer), *((f"read-{i}", r) for i, r in enumerate(self.data.read_replicas))]
        for label, db in instances:
            dims = {"DBInstanceIdentifier": db.identifier}

            def rds(metric: str, dims: dict[str, str] = dims) -> Metric:
                return Metric("AWS/RDS", metric, dims, "Average")

            self.alarms.above(f"db-{label}-cpu", "Database CPU saturated", rds("CPUUtilization"), t.rds_cpu_percent)
            self.alarms.above(
                f"db-{label}-free-storage",
                f"Less than {t.rds_free_storage_percent}% of the allocated storage is free",
                rds("FreeStorageSpace"),
                free_bytes,
                below=True,
            )
            self.alarms.above(
                f"db-{label}-connections", "Connections near the limit", rds("DatabaseConnections"), t.rds_connections
            )
            if label != "writer" or self.role == "secondary":  # replicas, and the cross-region replica
                self.alarms.above(
                    f"db-{label}-replica-lag",
                    "Replica lag: reads are stale and the standby would lose data on failover",
                    rds("ReplicaLag"),
                    t.rds_replica_lag_s,
                )

    def _cache_alarms(self) -> None:
        t = self.thresholds
        group = self.data.redis.replication_group_id
        # ElastiCache publishes per member cluster, named <group>-001, -002, ...
        for index in range(1, self.stage.sizes.cache_nodes + 1):
            node = {"CacheClusterId": f"{group}-{index:03d}"}
            self.alarms.above(
                f"redis-{index}-cpu",
                "Redis engine CPU saturated (single-threaded)",
                Metric("AWS/ElastiCache", "EngineCPUUtilization", node, "Average"),
                t.redis_cpu_percent,
            )
            self.alarms.above(
                f"redis-{index}-evictions",
                "Redis is evicting keys: the cache is too small",
                Metric("AWS/ElastiCache", "Evictions", node, "Sum"),
                t.redis_evictions,
            )
            self.alarms.above(
                f"redis-{index}-replication-lag",
                "Redis replica lag (only replicas report it)",
                Metric("AWS/ElastiCache", "ReplicationLag", node, "Average"),
                t.redis_replication_lag_s,
                missing="notBreaching",
            )

    def _queue_alarms(self) -> None:
        for name, pair in self.data.queues.items():
            self.alarms.above(
                f"queue-{name}-oldest-message",
                f"{name} messages wait too long: its workers are down or too few",
                Metric("AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": pair.queue.name}, "Maximum"),
                self.thresholds.queue_oldest_message_s,
            )
            self.alarms.above(
                f"queue-{name}-dlq-depth",
                f"{name} has dead-lettered messages: inspect and redrive",
                Metric("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": pair.dlq.name}, "Maximum"),
                0,
                periods=1,
                missing="notBreaching",
            )

    # ------------------------------------------------------------------------------------- compute and edge
    def _load_balancer_alarms(self) -> list[str]:
        """ALB error rate, per-service p99 latency and unhealthy targets; returns the customer-impact alarms."""
        t = self.thresholds
        alb = {"LoadBalancer": self.compute.alb.arn_suffix}

        def elb(metric: str, dims: dict[str, str] = alb, stat: str = "Sum") -> Metric:
            return Metric("AWS/ApplicationELB", metric, dims, stat)

        self.alarms.percent(
            "alb-5xx-rate",
            f"More than {t.alb_5xx_percent}% of requests fail with 5xx at the load balancer",
            [elb("HTTPCode_ELB_5XX_Count"), elb("HTTPCode_Target_5XX_Count")],
            elb("RequestCount"),
            t.alb_5xx_percent,
        )
        impact = [self.alarms.name("alb-5xx-rate")]
        for name, service in self.compute.web_services.items():
            dims = {**alb, "TargetGroup": service.target_group.arn_suffix}
            self.alarms.above(
                f"{name}-p99-latency",
                f"{name}: p99 response time above {t.target_p99_ms} ms",
                elb("TargetResponseTime", dims, "Average"),
                t.target_p99_ms / 1000,
                extended_statistic="p99",
                missing="notBreaching",
            )
            self.alarms.above(
                f"{name}-unhealthy-targets",
                f"{name}: pods fail their readiness check behind the load balancer",
                elb("UnHealthyHostCount", dims, "Maximum"),
                0,
                period=60,
                periods=3,
            )
            impact.append(self.alarms.name(f"{name}-p99-latency"))
        self._waf_alarm("waf-alb-blocked", self.compute.web_acl.acl.name, {"Region": self.region.region})
        return impact

    def _cluster_alarms(self) -> None:
        """Container Insights for the cluster, and an alarm when it has fewer nodes than its groups' minimum."""
        ContainerInsights(
            self,
            "container-insights",
            cluster_name=self.compute.cluster.name,
            static_cluster_name=self.compute.cluster_name,
            prefix=self.prefix,
            region=self.region.region,
            partition=self.partition.partition,
            account_id=self.caller.account_id,
            account_root_arn=self.account_root_arn,
            retention_days=self.log_retention,
        )
        sizes = self.stage.sizes
        app = sizes.app_nodes if self.role == "primary" else sizes.secondary_app_nodes
        minimum = sizes.system_nodes.min_size + app.min_size
        self.alarms.above(
            "eks-node-count",
            f"The cluster runs fewer than its {minimum} minimum nodes (node group or AZ trouble)",
            Metric(CONTAINER_INSIGHTS, "cluster_node_count", {"ClusterName": self.compute.cluster.name}, "Minimum"),
            minimum,
            below=True,
            missing="breaching",
        )

    def _edge_alarms(self, edge: EdgeStack) -> list[str]:
        """CloudFront and its web ACL publish their metrics in us-east-1 (the primary region by default)."""
        self.alarms.above(
            "cloudfront-5xx-rate",
            f"More than {self.thresholds.cloudfront_5xx_percent}% of CloudFront responses are 5xx",
            Metric(
                "AWS/CloudFront",
                "5xxErrorRate",
                {"DistributionId": edge.distribution.id, "Region": "Global"},
                "Average",
            ),
            self.thresholds.cloudfront_5xx_percent,
            missing="notBreaching",
        )
        self._waf_alarm("waf-cloudfront-blocked", edge.web_acls["cloudfront"].acl.name, {})
        return [self.alarms.name("cloudfront-5xx-rate")]

    def _waf_alarm(self, name: str, web_acl: str, extra: dict[str, str]) -> None:
        self.alarms.above(
            name,
            "Blocked-request spike: an attack or a rule blocking real customers",
            Metric("AWS/WAFV2", "BlockedRequests", {"WebACL": web_acl, "Rule": "ALL", **extra}, "Sum"),
            self.thresholds.waf_blocked_requests,
            periods=1,
            missing="notBreaching",
        )

    # ------------------------------------------------------------------------------------------------ cost
    def _cost_guardrails(self) -> None:
        stage = self.stage.name
        BudgetsBudget(
            self,
            "budget",
            name=f"peakshop-{stage}-monthly",
            budget_type="COST",
            limit_amount=str(self.stage.monthly_budget_usd),
            limit_unit="USD",
            time_unit="MONTHLY",
            # Needs the `stage` tag (a provider default tag) activated as a cost allocation tag.
            cost_filter=[BudgetsBudgetCostFilter(name="TagKeyValue", values=[f"user:stage${stage}"])],
            notification=[
                BudgetsBudgetNotification(
                    comparison_operator="GREATER_THAN",
                    notification_type=kind,
                    threshold=percent,
                    threshold_type="PERCENTAGE",
                    subscriber_sns_topic_arns=[self.alerts.arn],
                )
                for kind, percent in BUDGET_ALERTS
            ],
        )
        # A custom monitor per stage (by the stage tag): an account allows only one per-service monitor.
        monitor = CeAnomalyMonitor(
            self,
            "anomaly-monitor",
            name=f"peakshop-{stage}",
            monitor_type="CUSTOM",
            monitor_specification=json.dumps(
                {"Tags": {"Key": "stage", "Values": [stage], "MatchOptions": ["EQUALS"]}}, sort_keys=True
            ),
        )
        CeAnomalySubscription(
            self,
            "anomaly-subscription",
            name=f"peakshop-{stage}-anomalies",
            frequency="IMMEDIATE",  # the only frequency that can notify SNS
            monitor_arn_list=[monitor.arn],
            subscriber=[CeAnomalySubscriptionSubscriber(type="SNS", address=self.alerts.arn)],
            threshold_expression=CeAnomalySubscriptionThresholdExpression(
                dimension=CeAnomalySubscriptionThresholdExpressionDimension(
                    key="ANOMALY_TOTAL_IMPACT_ABSOLUTE",
                    match_options=["GREATER_THAN_OR_EQUAL"],
                    values=[str(ANOMALY_IMPACT_USD)],
                )
            ),
        )
        self._trusted_advisor()

    def _trusted_advisor(self) -> None:
        """Trusted Advisor check changes (raised in us-east-1 only) -> the alerts topic."""
        pattern = json.dumps(
            {"source": ["aws.trustedadvisor"], "detail-type": ["Trusted Advisor Check Item Refresh Notification"]}
        )
        rule = CloudwatchEventRule(
            self, "trusted-advisor", name=f"{self.prefix}-trusted-advisor", event_pattern=pattern
        )
        CloudwatchEventTarget(self, "trusted-advisor-alerts", rule=rule.name, arn=self.alerts.arn)
        if self.region.region == TRUSTED_ADVISOR_REGION:
            return
        # Elsewhere: a us-east-1 rule forwards the events to this region's default bus, where the rule above fires.
        provider = self.aws_provider("aws-trusted-advisor", TRUSTED_ADVISOR_REGION, alias="trusted_advisor")
        bus = f"arn:{self.partition.partition}:events:{self.region.region}:{self.caller.account_id}:event-bus/default"
        forwarder = IamRole(
            self,
            "trusted-advisor-forwarder",
            name=f"{self.prefix}-trusted-advisor-forwarder",
            assume_role_policy=assume_role_policy(self, "trusted-advisor-trust", "events.amazonaws.com").json,
        )
        IamRolePolicy(
            self,
            "trusted-advisor-forwarder-policy",
            role=forwarder.id,
            policy=policy_document(
                self, "trusted-advisor-forward", [Statement(actions=["events:PutEvents"], resources=[bus])]
            ).json,
        )
        remote = CloudwatchEventRule(
            self,
            "trusted-advisor-us-east-1",
            name=f"{self.prefix}-trusted-advisor",
            event_pattern=pattern,
            provider=provider,
        )
        CloudwatchEventTarget(
            self, "trusted-advisor-forward", rule=remote.name, arn=bus, role_arn=forwarder.arn, provider=provider
        )

    # ----------------------------------------------------------------------------------------------- views
    def _dashboard(self) -> None:
        """One widget per alarm: CloudWatch draws the alarm's metric with its threshold.

        The body is a Terraform local (rendered as an HCL object) rather than jsonencode() of an inline object:
        checkov's HCL parser cannot read references nested inside an inline "${jsonencode({...})}"."""
        body = TerraformLocal(self, "dashboard_body", {"widgets": self._alarm_widgets()})
        CloudwatchDashboard(
            self, "dashboard", dashboard_name=self.prefix, dashboard_body=Fn.jsonencode(body.expression)
        )

    def _alarm_widgets(self) -> list[dict[str, Any]]:
        return [
            {
                "type": "metric",
                "width": 8,
                "height": 6,
                "properties": {
                    "title": alarm.alarm_name,
                    "region": self.region.region,
                    "annotations": {"alarms": [alarm.arn]},
                    "view": "timeSeries",
                },
            }
            for alarm in self.alarms.created
        ]
