"""Unit tests of the reusable constructs, each in a small stack of its own."""

from __future__ import annotations

import json

from cdktf import App, TerraformStack
from cdktf import Testing as CdktfTesting  # aliased: pytest would try to collect a class named Test*
from cdktf_cdktf_provider_aws.provider import AwsProvider

from peakshop_constructs.kms import EncryptionKey
from peakshop_constructs.queue import MAX_RECEIVES, QueueWithDlq
from peakshop_constructs.secure_bucket import ARCHIVE_TIERS, LOG_EXPIRY_DAYS, SERVING_NONCURRENT_TIERS, SecureBucket


def synth_one(build) -> str:  # type: ignore[no-untyped-def]
    stack = TerraformStack(App(stack_traces=False), "unit")
    AwsProvider(stack, "aws", region="us-east-1")
    build(stack)
    return CdktfTesting.synth(stack)


def test_encryption_key_rotates_and_has_an_alias() -> None:
    out = synth_one(lambda s: EncryptionKey(s, "k", alias="peakshop-test", description="t",
                                            account_root_arn="arn:aws:iam::111122223333:root",
                                            account_id="111122223333"))  # fmt: skip
    assert CdktfTesting.to_have_resource_with_properties(out, "aws_kms_key", {"enable_key_rotation": True})
    assert CdktfTesting.to_have_resource_with_properties(out, "aws_kms_alias", {"name": "alias/peakshop-test"})


def test_secure_bucket_is_private_versioned_encrypted_and_tiered() -> None:
    out = synth_one(lambda s: SecureBucket(s, "b", bucket_prefix="t-", kms_key_arn="arn:aws:kms:us-east-1:1:key/x"))
    assert CdktfTesting.to_have_resource_with_properties(
        out, "aws_s3_bucket_public_access_block",
        {"block_public_acls": True, "block_public_policy": True, "ignore_public_acls": True,
         "restrict_public_buckets": True},
    )  # fmt: skip
    assert CdktfTesting.to_have_resource_with_properties(
        out, "aws_s3_bucket_versioning", {"versioning_configuration": {"status": "Enabled"}}
    )
    assert CdktfTesting.to_have_resource_with_properties(
        out,
        "aws_s3_bucket_server_side_encryption_configuration",
        {"rule": [{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms"}}]},
    )
    rules = json.loads(out)["resource"]["aws_s3_bucket_lifecycle_configuration"]
    (rule,) = next(iter(rules.values()))["rule"]
    assert [(t["days"], t["storage_class"]) for t in rule["transition"]] == list(ARCHIVE_TIERS)
    assert "expiration" not in rule
    policy = next(iter(json.loads(out)["data"]["aws_iam_policy_document"].values()))
    assert policy["statement"][0]["condition"][0]["variable"] == "aws:SecureTransport"


def test_log_bucket_expires_objects_and_uses_sse_s3() -> None:
    out = synth_one(lambda s: SecureBucket(s, "b", bucket_prefix="t-", kms_key_arn=None, lifecycle="logs"))
    assert CdktfTesting.to_have_resource_with_properties(
        out,
        "aws_s3_bucket_server_side_encryption_configuration",
        {"rule": [{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}]},
    )
    rules = json.loads(out)["resource"]["aws_s3_bucket_lifecycle_configuration"]
    (rule,) = next(iter(rules.values()))["rule"]
    assert rule["expiration"] == [{"days": LOG_EXPIRY_DAYS}]


def test_serving_bucket_keeps_current_objects_in_standard() -> None:
    out = synth_one(lambda s: SecureBucket(s, "b", bucket_prefix="t-", kms_key_arn="k", lifecycle="serving"))
    rules = json.loads(out)["resource"]["aws_s3_bucket_lifecycle_configuration"]
    (rule,) = next(iter(rules.values()))["rule"]
    assert "transition" not in rule and "expiration" not in rule  # GET works at once on every current object
    noncurrent = [(t["noncurrent_days"], t["storage_class"]) for t in rule["noncurrent_version_transition"]]
    assert noncurrent == list(SERVING_NONCURRENT_TIERS) == [(30, "STANDARD_IA"), (90, "GLACIER")]
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": 365}]
    assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 7}]


def test_queue_has_a_dlq_with_redrive_both_ways_and_kms() -> None:
    out = synth_one(lambda s: QueueWithDlq(s, "q", name="orders", kms_key_arn="arn:aws:kms:us-east-1:1:key/x",
                                           account_id="111122223333"))  # fmt: skip
    queues = json.loads(out)["resource"]["aws_sqs_queue"]
    main = next(q for q in queues.values() if q["name"] == "orders")
    dlq = next(q for q in queues.values() if q["name"] == "orders-dlq")
    redrive = main["redrive_policy"].replace(" ", "")
    assert f'"maxReceiveCount"={MAX_RECEIVES}' in redrive
    assert '"deadLetterTargetArn"=aws_sqs_queue.q_dlq_' in redrive
    assert main["kms_master_key_id"] == dlq["kms_master_key_id"] == "arn:aws:kms:us-east-1:1:key/x"
    assert CdktfTesting.to_have_resource(out, "aws_sqs_queue_redrive_allow_policy")
    assert len(json.loads(out)["resource"]["aws_sqs_queue_policy"]) == 2
