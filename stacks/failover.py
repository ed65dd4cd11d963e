"""The regional failover runbook as an AWS Step Functions definition (Amazon States Language).

Step Functions rather than an SSM document: each step is a direct AWS SDK call with retries, the waits are
free, and the execution history shows operators exactly where a failover stands. It runs in the secondary
region (the one that is still up): promote the cross-region replica, wait until it is a writable
instance, make it Multi-AZ, scale the standby node groups and cache up to the primary's size, invert the primary's
Route 53 health check so that the failover records answer with the secondary, and report to the alerts
topic. Does not import cdktf: the values are strings (Terraform references at synth time).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SDK = "arn:aws:states:::aws-sdk"
RETRY = [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10, "MaxAttempts": 3, "BackoffRate": 2.0}]
POLL_SECONDS = 30
SOURCE_FIELD = "ReadReplicaSourceDBInstanceIdentifier"


@dataclass(frozen=True)
class NodeGroupTarget:
    cluster: str
    name: str
    min_size: int
    desired_size: int
    max_size: int


@dataclass(frozen=True)
class FailoverPlan:
    db_instance: str  # the cross-region replica's identifier
    backup_retention_days: int
    alerts_topic_arn: str
    node_groups: list[NodeGroupTarget] = field(default_factory=list)
    # The standby Redis group and the node type it takes on failover (an online change: it keeps serving).
    cache_group: str | None = None
    cache_node_type: str | None = None
    primary_health_check_id: str | None = None


def _task(resource: str, parameters: dict[str, Any], next_state: str, **extra: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": f"{SDK}:{resource}",
        "Parameters": parameters,
        "Retry": RETRY,
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "ReportFailure"}],
        "Next": next_state,
        **extra,
    }


def definition(plan: FailoverPlan) -> dict[str, Any]:
    """The state machine, in order: promote -> wait available -> Multi-AZ -> scale -> DNS -> report."""
    states: dict[str, Any] = {}
    order = ["PromoteReplica", "WaitForPromotion", "DescribeWriter", "IsWriterAvailable", "EnableMultiAz"]
    order += [f"ScaleNodeGroup{i}" for i in range(len(plan.node_groups))]
    if plan.cache_group and plan.cache_node_type:
        order.append("ScaleCache")
    if plan.primary_health_check_id:
        order.append("FailPrimaryHealthCheck")
    order.append("ReportSuccess")

    def after(state: str) -> str:
        return order[order.index(state) + 1]

    states["PromoteReplica"] = _task(
        "rds:promoteReadReplica",
        {"DbInstanceIdentifier": plan.db_instance, "BackupRetentionPeriod": plan.backup_retention_days},
        after("PromoteReplica"),
    )
    states["WaitForPromotion"] = {"Type": "Wait", "Seconds": POLL_SECONDS, "Next": "DescribeWriter"}
    states["DescribeWriter"] = {
        **_task("rds:describeDBInstances", {"DbInstanceIdentifier": plan.db_instance}, "IsWriterAvailable"),
        "ResultSelector": {"instance.$": "$.DbInstances[0]"},
        "ResultPath": "$.writer",
    }
    states["IsWriterAvailable"] = {
        "Type": "Choice",
        "Choices": [
            {
                "And": [
                    {"Variable": "$.writer.instance.DbInstanceStatus", "StringEquals": "available"},
                    # still a replica until this field disappears
                    {"Not": {"Variable": f"$.writer.instance.{SOURCE_FIELD}", "IsPresent": True}},
                ],
                "Next": "EnableMultiAz",
            }
        ],
        "Default": "WaitForPromotion",
    }
    states["EnableMultiAz"] = _task(
        "rds:modifyDBInstance",
        {"DbInstanceIdentifier": plan.db_instance, "MultiAZ": True, "ApplyImmediately": True},
        after("EnableMultiAz"),
    )
    for index, group in enumerate(plan.node_groups):
        state = f"ScaleNodeGroup{index}"
        states[state] = _task(
            "eks:updateNodegroupConfig",
            {
                "ClusterName": group.cluster,
                "NodegroupName": group.name,
                "ScalingConfig": {
                    "MinSize": group.min_size,
                    "DesiredSize": group.desired_size,
                    "MaxSize": group.max_size,
                },
            },
            after(state),
        )
    if "ScaleCache" in order:
        states["ScaleCache"] = _task(
            "elasticache:modifyReplicationGroup",
            {"ReplicationGroupId": plan.cache_group, "CacheNodeType": plan.cache_node_type, "ApplyImmediately": True},
            after("ScaleCache"),
        )
    if plan.primary_health_check_id:
        states["FailPrimaryHealthCheck"] = _task(
            "route53:updateHealthCheck",
            {"HealthCheckId": plan.primary_health_check_id, "Inverted": True},
            "ReportSuccess",
        )
    states["ReportSuccess"] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sns:publish",
        "Parameters": {
            "TopicArn": plan.alerts_topic_arn,
            "Subject": "Peakshop regional failover completed",
            "Message.$": "States.Format('Failover execution {} completed', $$.Execution.Id)",
        },
        "End": True,
    }
    states["ReportFailure"] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sns:publish",
        "Parameters": {
            "TopicArn": plan.alerts_topic_arn,
            "Subject": "Peakshop regional failover FAILED",
            "Message.$": "States.Format('Failover execution {} failed: {}', $$.Execution.Id, $.error.Cause)",
        },
        "Next": "Failed",
    }
    states["Failed"] = {"Type": "Fail", "Error": "FailoverFailed", "Cause": "see the execution history"}
    return {
        "Comment": "Peakshop regional failover: promote the standby database, scale up, move DNS",
        "StartAt": "PromoteReplica",
        "TimeoutSeconds": 3600,
        "States": states,
    }
