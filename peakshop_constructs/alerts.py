"""The alerts topic every alarm notifies: SNS encrypted with its own KMS key, publishable only by the AWS
services that raise Peakshop's alerts on behalf of this account, over TLS, with email subscriptions."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from peakshop_constructs.kms import EncryptionKey
from peakshop_constructs.policy import Statement, deny_insecure_transport, policy_document

# The services that publish alerts: alarms, EventBridge rules, Budgets, Cost Anomaly Detection, AWS Backup.
PUBLISHERS = (
    "cloudwatch.amazonaws.com",
    "events.amazonaws.com",
    "budgets.amazonaws.com",
    "costalerts.amazonaws.com",
    "backup.amazonaws.com",
)


class AlertsTopic(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        account_id: str,
        account_root_arn: str,
        emails: tuple[str, ...],
    ) -> None:
        super().__init__(scope, construct_id)
        # SNS with a customer key: the publishing service needs the key to encrypt the message it sends.
        self.key = EncryptionKey(
            self,
            "key",
            alias=name,
            description=f"{name}: SNS alerts encryption",
            account_root_arn=account_root_arn,
            account_id=account_id,
            service_statements=[
                Statement(
                    sid="AlertPublishers",
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    resources=["*"],
                    principals={"Service": list(PUBLISHERS)},
                )
            ],
        )
        self.topic = SnsTopic(self, "topic", name=name, kms_master_key_id=self.key.arn)
        document = policy_document(
            self,
            "policy-document",
            [
                Statement(
                    sid="AlertPublishers",
                    actions=["sns:Publish"],
                    resources=[self.topic.arn],
                    principals={"Service": list(PUBLISHERS)},
                    conditions=[("StringEquals", "aws:SourceAccount", [account_id])],
                ),
                deny_insecure_transport([self.topic.arn]),
            ],
        )
        SnsTopicPolicy(self, "policy", arn=self.topic.arn, policy=document.json)
        for index, email in enumerate(emails):
            SnsTopicSubscription(self, f"email-{index}", topic_arn=self.topic.arn, protocol="email", endpoint=email)

    @property
    def arn(self) -> str:
        return self.topic.arn
