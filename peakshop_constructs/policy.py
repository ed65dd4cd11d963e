"""IAM policy documents built with `data.aws_iam_policy_document`.

Hand-written JSON with tokens inside renders wrongly in cdktf's HCL output (upstream #3911); the data
source keeps every reference a real Terraform expression.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from constructs import Construct


@dataclass(frozen=True)
class Statement:
    actions: list[str]
    resources: list[str]
    sid: str | None = None
    effect: str = "Allow"
    principals: dict[str, list[str]] = field(default_factory=dict)  # type -> identifiers
    conditions: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (test, variable, values)


def policy_document(scope: Construct, construct_id: str, statements: list[Statement]) -> DataAwsIamPolicyDocument:
    return DataAwsIamPolicyDocument(
        scope,
        construct_id,
        statement=[
            DataAwsIamPolicyDocumentStatement(
                sid=s.sid,
                effect=s.effect,
                actions=s.actions,
                resources=s.resources,
                principals=[
                    DataAwsIamPolicyDocumentStatementPrincipals(type=t, identifiers=ids)
                    for t, ids in s.principals.items()
                ]
                or None,
                condition=[
                    DataAwsIamPolicyDocumentStatementCondition(test=t, variable=v, values=vals)
                    for t, v, vals in s.conditions
                ]
                or None,
            )
            for s in statements
        ],
    )


def deny_insecure_transport(resources: list[str]) -> Statement:
    """Refuse any request that does not use TLS (PCI DSS 4.2.1)."""
    return Statement(
        sid="DenyInsecureTransport",
        effect="Deny",
        actions=["*"],
        resources=resources,
        principals={"*": ["*"]},
        conditions=[("Bool", "aws:SecureTransport", ["false"])],
    )


def assume_role_policy(scope: Construct, construct_id: str, service: str) -> DataAwsIamPolicyDocument:
    return policy_document(
        scope,
        construct_id,
        [Statement(actions=["sts:AssumeRole"], resources=[], principals={"Service": [service]})],
    )
