"""A customer-managed KMS key with rotation on and a key policy that names who may use it."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from peakshop_constructs.policy import Statement, policy_document

# Key administration and use for the account's IAM principals (IAM policies then grant per role).
_ACCOUNT_ACTIONS = [
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:CreateGrant",
    "kms:RetireGrant",
]
SERVICE_KEY_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]


class EncryptionKey(Construct):
    """KMS key + alias. `service_statements` grant AWS services (e.g. CloudWatch Logs, SNS) that encrypt
    on the account's behalf, each with the condition that ties it to this account's resources."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alias: str,
        description: str,
        account_root_arn: str,
        account_id: str,
        service_statements: list[Statement] | None = None,
        multi_region: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        statements = [
            Statement(
                sid="AccountAdministration",
                actions=_ACCOUNT_ACTIONS,
                resources=["*"],
                principals={"AWS": [account_root_arn]},
            ),
        ]
        statements.extend(service_statements or [])
        policy = policy_document(self, "policy", statements)
        self.key = KmsKey(
            self,
            "key",
            description=description,
            enable_key_rotation=True,
            deletion_window_in_days=30,
            multi_region=multi_region,
            policy=policy.json,
        )
        KmsAlias(self, "alias", name=f"alias/{alias}", target_key_id=self.key.key_id)

    @property
    def arn(self) -> str:
        return self.key.arn


def logs_statement(region: str, log_group_arns: list[str]) -> Statement:
    """Key-policy statement that lets CloudWatch Logs in `region` encrypt these log groups only: the service
    passes the group's ARN as encryption context, so the key cannot serve any other group."""
    return Statement(
        sid="CloudWatchLogs",
        actions=SERVICE_KEY_ACTIONS,
        resources=["*"],
        principals={"Service": [f"logs.{region}.amazonaws.com"]},
        conditions=[("ArnLike", "kms:EncryptionContext:aws:logs:arn", log_group_arns)],
    )
