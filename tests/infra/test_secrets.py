"""Application secrets: every secret a workload (IRSA role) or chart reads exists in Secrets Manager,
encrypted with the stage's customer-managed keys and replicated to the secondary region, and no value is
ever in Terraform: no secret version, no secret string, anywhere."""

from __future__ import annotations

import json
import re

import pytest

from stacks.config import STAGE_NAMES
from stacks.workloads import SECRETS, WORKLOADS, secret_name
from tests.infra.synthesized import Platform, all_resources, data_sources, ref_name, resources


def stage_secrets(platform: Platform, stage: str) -> dict[str, dict]:
    """name -> aws_secretsmanager_secret config, across the stage's stacks."""
    found = [cfg for _, _, cfg in all_resources(platform.stage_docs(stage), "aws_secretsmanager_secret")]
    by_name = {cfg["name"]: cfg for cfg in found}
    assert len(by_name) == len(found), f"{stage}: a secret is declared twice"
    return by_name


@pytest.mark.parametrize("stage", STAGE_NAMES)
def test_every_referenced_secret_exists_encrypted_and_replicated(platform: Platform, stage: str) -> None:
    config = platform.config.stages[stage]
    secrets = stage_secrets(platform, stage)
    referenced = {secret_name(stage, s) for w in WORKLOADS for s in w.secrets}
    for doc in platform.stage_docs(stage).values():  # what the IRSA policies grant reads of
        text = json.dumps(data_sources(doc, "aws_iam_policy_document"))
        referenced |= set(re.findall(rf":secret:(peakshop/{stage}/[a-z-]+)-\?{{6}}", text))
    assert referenced == set(secrets) == {secret_name(stage, s) for s in SECRETS}
    doc = platform.docs[f"{stage}-secondary-data"]
    primary_provider = next(p for p in doc["provider"]["aws"] if p.get("alias") == "primary")
    assert primary_provider["region"] == config.primary.region
    own_key = {k for k, v in resources(doc, "aws_kms_key").items() if "secrets" in v["description"]}
    policies = {ref_name(p["secret_arn"]): p for p in resources(doc, "aws_secretsmanager_secret_policy").values()}
    documents = data_sources(doc, "aws_iam_policy_document")
    for key, secret in resources(doc, "aws_secretsmanager_secret").items():
        assert secret["provider"] == "aws.primary", key  # the primary copy lives in the primary region
        assert "primary-data" in secret["kms_key_id"] and "key-secrets" in secret["kms_key_id"], key
        (replica,) = secret["replica"]
        assert replica["region"] == config.secondary.region, key
        assert ref_name(replica["kms_key_id"]) in own_key, key
        assert secret["recovery_window_in_days"] == (30 if stage == "prod" else 7), key
        policy = policies[key]
        assert policy["provider"] == "aws.primary" and policy["block_public_policy"] is True, key
        statements = documents[ref_name(policy["policy"])]["statement"]
        assert all(s["effect"] == "Deny" for s in statements), key
        conditions = {c["variable"]: c["values"] for s in statements for c in s["condition"]}
        assert conditions["aws:SecureTransport"] == ["false"], key
        assert conditions["aws:PrincipalAccount"] == ["${data.aws_caller_identity.caller.account_id}"], key


def test_no_secret_value_in_any_stack(platform: Platform) -> None:
    for stack, doc in platform.docs.items():
        assert "aws_secretsmanager_secret_version" not in doc.get("resource", {}), stack
        assert "aws_secretsmanager_secret_version" not in doc.get("data", {}), stack
        text = json.dumps(doc)
        assert '"secret_string' not in text and '"secret_binary' not in text, stack
