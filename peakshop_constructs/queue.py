"""An SQS queue with its dead-letter queue, redrive in both directions, SSE-KMS and a TLS-only policy."""

from __future__ import annotations

from cdktf import Fn
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from cdktf_cdktf_provider_aws.sqs_queue_policy import SqsQueuePolicy
from cdktf_cdktf_provider_aws.sqs_queue_redrive_allow_policy import SqsQueueRedriveAllowPolicy
from constructs import Construct

from peakshop_constructs.policy import Statement, deny_insecure_transport, policy_document

MAX_RECEIVES = 5  # a message that failed this often is poison: it moves to the DLQ.
DLQ_RETENTION_S = 14 * 24 * 3600  # the SQS maximum, time to fix and redrive.


class QueueWithDlq(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        kms_key_arn: str,
        account_id: str,
        visibility_timeout_s: int = 300,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dlq = SqsQueue(
            self,
            "dlq",
            name=f"{name}-dlq",
            message_retention_seconds=DLQ_RETENTION_S,
            kms_master_key_id=kms_key_arn,
            kms_data_key_reuse_period_seconds=300,
        )
        self.queue = SqsQueue(
            self,
            "queue",
            name=name,
            visibility_timeout_seconds=visibility_timeout_s,
            message_retention_seconds=4 * 24 * 3600,
            receive_wait_time_seconds=20,
            kms_master_key_id=kms_key_arn,
            kms_data_key_reuse_period_seconds=300,
            redrive_policy=Fn.jsonencode({"deadLetterTargetArn": self.dlq.arn, "maxReceiveCount": MAX_RECEIVES}),
        )
        # Only this queue may dead-letter into the DLQ (a separate resource: the queues refer to each other).
        SqsQueueRedriveAllowPolicy(
            self,
            "dlq-redrive-allow",
            queue_url=self.dlq.url,
            redrive_allow_policy=Fn.jsonencode({"redrivePermission": "byQueue", "sourceQueueArns": [self.queue.arn]}),
        )
        for queue_id, queue in (("queue", self.queue), ("dlq", self.dlq)):
            document = policy_document(
                self,
                f"{queue_id}-policy-document",
                [
                    deny_insecure_transport([queue.arn]),
                    Statement(
                        sid="AccountOnly",
                        effect="Deny",
                        actions=["sqs:*"],
                        resources=[queue.arn],
                        principals={"*": ["*"]},
                        conditions=[("StringNotEquals", "aws:PrincipalAccount", [account_id])],
                    ),
                ],
            )
            SqsQueuePolicy(self, f"{queue_id}-policy", queue_url=queue.url, policy=document.json)
