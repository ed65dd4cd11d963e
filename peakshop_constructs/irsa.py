"""IAM roles for Kubernetes service accounts (IRSA): one role per ServiceAccount, trusted only by that
ServiceAccount through the cluster's OIDC provider, with its own inline policy."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from peakshop_constructs.policy import Statement, policy_document


@dataclass(frozen=True)
class OidcIssuer:
    """The cluster's OIDC provider: its IAM ARN and its issuer host (the URL without `https://`)."""

    provider_arn: str
    host: str


class IrsaRole(Construct):
    """`statements` become the role's inline policy; `managed_policy_arns` are for AWS-maintained policies
    whose scope already is the minimum (e.g. the EBS CSI driver)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        issuer: OidcIssuer,
        namespace: str,
        service_account: str,
        statements: list[Statement],
        managed_policy_arns: tuple[str, ...] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.service_account = f"system:serviceaccount:{namespace}:{service_account}"
        trust = policy_document(
            self,
            "trust",
            [
                Statement(
                    actions=["sts:AssumeRoleWithWebIdentity"],
                    resources=[],
                    principals={"Federated": [issuer.provider_arn]},
                    conditions=[
                        ("StringEquals", f"{issuer.host}:sub", [self.service_account]),
                        ("StringEquals", f"{issuer.host}:aud", ["sts.amazonaws.com"]),
                    ],
                )
            ],
        )
        self.role = IamRole(
            self,
            "role",
            name=name,
            description=f"IRSA role of {namespace}/{service_account}",
            assume_role_policy=trust.json,
            max_session_duration=3600,
        )
        if statements:
            permissions = policy_document(self, "permissions", statements)
            IamRolePolicy(self, "policy", name=f"{name}-access", role=self.role.id, policy=permissions.json)
        for index, arn in enumerate(managed_policy_arns):
            IamRolePolicyAttachment(self, f"managed-{index}", role=self.role.name, policy_arn=arn)

    @property
    def arn(self) -> str:
        return self.role.arn
