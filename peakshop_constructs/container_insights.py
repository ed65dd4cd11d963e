"""Container Insights on an EKS cluster: the amazon-cloudwatch-observability add-on, its agent's role
through EKS Pod Identity (CloudWatchAgentServerPolicy only), and its log groups declared first so that
they get retention and KMS (the agent would otherwise create them without either)."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.eks_addon import EksAddon, EksAddonPodIdentityAssociation
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from peakshop_constructs.kms import EncryptionKey, logs_statement
from peakshop_constructs.policy import Statement, policy_document

ADDON = "amazon-cloudwatch-observability"
AGENT_SERVICE_ACCOUNT = "cloudwatch-agent"
LOG_GROUPS = ("application", "dataplane", "host", "performance")
METRIC_NAMESPACE = "ContainerInsights"


class ContainerInsights(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster_name: str,
        static_cluster_name: str,
        prefix: str,
        region: str,
        partition: str,
        account_id: str,
        account_root_arn: str,
        retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        # `static_cluster_name` is the same name as a plain string: log group names must be known at synth.
        log_prefix = f"/aws/containerinsights/{static_cluster_name}"
        key = EncryptionKey(
            self,
            "logs-key",
            alias=f"{prefix}-container-insights",
            description="Container Insights log groups",
            account_root_arn=account_root_arn,
            account_id=account_id,
            service_statements=[
                logs_statement(region, [f"arn:{partition}:logs:{region}:{account_id}:log-group:{log_prefix}/*"])
            ],
        )
        self.log_groups = [
            CloudwatchLogGroup(
                self, f"logs-{name}", name=f"{log_prefix}/{name}", retention_in_days=retention_days, kms_key_id=key.arn
            )
            for name in LOG_GROUPS
        ]
        trust = policy_document(
            self,
            "agent-trust",
            [
                Statement(
                    actions=["sts:AssumeRole", "sts:TagSession"],
                    resources=[],
                    principals={"Service": ["pods.eks.amazonaws.com"]},
                )
            ],
        )
        role = IamRole(self, "agent-role", name=f"{prefix}-cloudwatch-agent", assume_role_policy=trust.json)
        IamRolePolicyAttachment(
            self,
            "agent-policy",
            role=role.name,
            policy_arn=f"arn:{partition}:iam::aws:policy/CloudWatchAgentServerPolicy",
        )
        self.addon = EksAddon(
            self,
            "addon",
            cluster_name=cluster_name,
            addon_name=ADDON,
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            pod_identity_association=[
                EksAddonPodIdentityAssociation(role_arn=role.arn, service_account=AGENT_SERVICE_ACCOUNT)
            ],
            depends_on=self.log_groups,
        )
