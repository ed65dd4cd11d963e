"""The account's audit trail: one multi-region CloudTrail with log file validation, KMS, delivery to an
audit bucket (object lock when asked), a CloudWatch Logs copy and CIS-style metric filters with alarms."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudtrail import Cloudtrail
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.cloudwatch_log_metric_filter import (
    CloudwatchLogMetricFilter,
    CloudwatchLogMetricFilterMetricTransformation,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from constructs import Construct

from peakshop_constructs.alarms import Alarms, Metric
from peakshop_constructs.kms import EncryptionKey, logs_statement
from peakshop_constructs.policy import Statement, assume_role_policy, deny_insecure_transport, policy_document
from peakshop_constructs.secure_bucket import SecureBucket

METRIC_NAMESPACE = "Peakshop/CloudTrail"


def _any_event(*names: str) -> str:
    return "(" + " || ".join(f"($.eventName = {n})" for n in names) + ")"


# CIS AWS Foundations 4.x-style filters: name -> (pattern, why it pages).
SECURITY_EVENTS: dict[str, tuple[str, str]] = {
    "root-usage": (
        '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }',
        "The root user was used; nobody should need it.",
    ),
    "iam-policy-changes": (
        "{ "
        + _any_event(
            "DeleteGroupPolicy",
            "DeleteRolePolicy",
            "DeleteUserPolicy",
            "PutGroupPolicy",
            "PutRolePolicy",
            "PutUserPolicy",
            "CreatePolicy",
            "DeletePolicy",
            "CreatePolicyVersion",
            "DeletePolicyVersion",
            "AttachRolePolicy",
            "DetachRolePolicy",
            "AttachUserPolicy",
            "DetachUserPolicy",
            "AttachGroupPolicy",
            "DetachGroupPolicy",
        )
        + " }",
        "An IAM policy changed outside the pipeline's review.",
    ),
    "console-login-failures": (
        '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',
        "Failed console sign-ins (possible credential stuffing).",
    ),
    "kms-key-disabled": (
        "{ ($.eventSource = kms.amazonaws.com) && " + _any_event("DisableKey", "ScheduleKeyDeletion") + " }",
        "A KMS key was disabled or scheduled for deletion: encrypted data would become unreadable.",
    ),
    "security-group-changes": (
        "{ "
        + _any_event(
            "AuthorizeSecurityGroupIngress",
            "AuthorizeSecurityGroupEgress",
            "RevokeSecurityGroupIngress",
            "RevokeSecurityGroupEgress",
            "CreateSecurityGroup",
            "DeleteSecurityGroup",
            "ModifySecurityGroupRules",
        )
        + " }",
        "A security group changed outside the pipeline.",
    ),
    "cloudtrail-changes": (
        "{ " + _any_event("CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging") + " }",
        "The audit trail itself was changed or stopped.",
    ),
}


@dataclass(frozen=True)
class TrailSettings:
    name: str
    log_retention_days: int
    object_lock_days: int | None
    access_log_bucket: str
    force_destroy: bool


class AuditTrail(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: TrailSettings,
        region: str,
        partition: str,
        account_id: str,
        account_root_arn: str,
        alarms: Alarms,
    ) -> None:
        super().__init__(scope, construct_id)
        name = settings.name
        trail_arn = f"arn:{partition}:cloudtrail:{region}:{account_id}:trail/{name}"
        log_group_name = f"/peakshop/cloudtrail/{name}"
        log_group_arn = f"arn:{partition}:logs:{region}:{account_id}:log-group:{log_group_name}"
        self.key = EncryptionKey(
            self,
            "key",
            alias=f"{name}-trail",
            description=f"{name}: CloudTrail log files, their CloudWatch Logs copy and delivery topic",
            account_root_arn=account_root_arn,
            account_id=account_id,
            service_statements=[
                Statement(
                    sid="CloudTrailEncryptLogs",
                    actions=["kms:GenerateDataKey*", "kms:DescribeKey"],
                    resources=["*"],
                    principals={"Service": ["cloudtrail.amazonaws.com"]},
                    conditions=[
                        ("StringEquals", "aws:SourceArn", [trail_arn]),
                        (
                            "StringLike",
                            "kms:EncryptionContext:aws:cloudtrail:arn",
                            [f"arn:{partition}:cloudtrail:*:{account_id}:trail/*"],
                        ),
                    ],
                ),
                Statement(
                    sid="CloudTrailNotify",
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    resources=["*"],
                    principals={"Service": ["cloudtrail.amazonaws.com"]},
                    conditions=[("StringEquals", "aws:SourceArn", [trail_arn])],
                ),
                logs_statement(region, [log_group_arn]),
            ],
        )
        self.bucket = SecureBucket(
            self,
            "bucket",
            bucket_prefix=f"{name}-audit-",
            kms_key_arn=self.key.arn,
            lifecycle="logs",
            force_destroy=settings.force_destroy,
            access_log_bucket=settings.access_log_bucket,
            cloudtrail_arn=trail_arn,
            object_lock_days=settings.object_lock_days,
        )
        self.log_group = CloudwatchLogGroup(
            self,
            "log-group",
            name=log_group_name,
            retention_in_days=settings.log_retention_days,
            kms_key_id=self.key.arn,
        )
        role = IamRole(
            self,
            "logs-role",
            name=f"{name}-trail-logs",
            assume_role_policy=assume_role_policy(self, "logs-trust", "cloudtrail.amazonaws.com").json,
        )
        permissions = policy_document(
            self,
            "logs-permissions",
            [
                Statement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[f"{self.log_group.arn}:log-stream:*"],
                )
            ],
        )
        role_policy = IamRolePolicy(self, "logs-policy", role=role.id, policy=permissions.json)
        # Log-file delivery notifications (for a SIEM to pick up); nobody is paged by them.
        self.delivery_topic = SnsTopic(
            self, "deliveries", name=f"{name}-trail-deliveries", kms_master_key_id=self.key.arn
        )
        topic_document = policy_document(
            self,
            "deliveries-policy-document",
            [
                Statement(
                    sid="CloudTrailPublish",
                    actions=["sns:Publish"],
                    resources=[self.delivery_topic.arn],
                    principals={"Service": ["cloudtrail.amazonaws.com"]},
                    conditions=[("StringEquals", "aws:SourceArn", [trail_arn])],
                ),
                deny_insecure_transport([self.delivery_topic.arn]),
            ],
        )
        topic_policy = SnsTopicPolicy(
            self, "deliveries-policy", arn=self.delivery_topic.arn, policy=topic_document.json
        )
        self.trail = Cloudtrail(
            self,
            "trail",
            name=name,
            s3_bucket_name=self.bucket.name,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            kms_key_id=self.key.arn,
            cloud_watch_logs_group_arn=f"{self.log_group.arn}:*",
            cloud_watch_logs_role_arn=role.arn,
            sns_topic_name=self.delivery_topic.name,
            depends_on=[self.bucket.policy, role_policy, topic_policy],
        )
        for event, (pattern, why) in SECURITY_EVENTS.items():
            CloudwatchLogMetricFilter(
                self,
                f"filter-{event}",
                name=f"{name}-{event}",
                log_group_name=self.log_group.name,
                pattern=pattern,
                metric_transformation=CloudwatchLogMetricFilterMetricTransformation(
                    name=event, namespace=METRIC_NAMESPACE, value="1", default_value="0"
                ),
            )
            alarms.above(
                f"audit-{event}",
                why,
                Metric(METRIC_NAMESPACE, event, {}),
                0,
                periods=1,
                missing="notBreaching",
            )
