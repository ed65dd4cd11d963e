"""An S3 bucket that is private, versioned, encrypted, TLS-only and tiered down by lifecycle."""

from __future__ import annotations

from typing import Literal

from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionTransition,
    S3BucketLifecycleConfigurationRuleTransition,
)
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktf_cdktf_provider_aws.s3_bucket_notification import S3BucketNotification
from cdktf_cdktf_provider_aws.s3_bucket_object_lock_configuration import (
    S3BucketObjectLockConfigurationA,
    S3BucketObjectLockConfigurationRuleA,
    S3BucketObjectLockConfigurationRuleDefaultRetentionA,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct

from peakshop_constructs.policy import Statement, deny_insecure_transport, policy_document

# Storage classes over an object's life (days since creation): the backup strategy the challenge asks for.
ARCHIVE_TIERS: tuple[tuple[int, str], ...] = ((30, "STANDARD_IA"), (90, "GLACIER"), (180, "DEEP_ARCHIVE"))
# Old versions of served objects: a rollback copy restores from Glacier in hours, from Deep Archive in 12+.
SERVING_NONCURRENT_TIERS: tuple[tuple[int, str], ...] = ARCHIVE_TIERS[:2]
NONCURRENT_EXPIRY_DAYS = 365
ACCESS_LOG_PREFIX = "s3-access/"  # where server access logs land in the logs bucket
LOG_EXPIRY_DAYS = 400  # PCI DSS 10.5.1 keeps audit logs 12 months; a margin on top.

# archive: every version tiers down to Deep Archive; logs: the same, and expire; serving: the current version
# stays in STANDARD, because GET on a GLACIER/DEEP_ARCHIVE object fails (403 InvalidObjectState).
Lifecycle = Literal["archive", "logs", "serving"]


class SecureBucket(Construct):
    """`kms_key_arn=None` means SSE-S3, for the one case AWS requires it (ELB and S3 access logs).

    `access_log_bucket` (a bucket name) turns on S3 server access logging into it (PCI DSS 10.2.1);
    `access_log_sink_account` lets S3 log delivery for that account write under ACCESS_LOG_PREFIX here;
    `cloudtrail_arn` lets that trail (only) deliver its log files; `object_lock_days` keeps every object
    immutable for that long in COMPLIANCE mode (in prod: audit logs, PCI DSS 10.3.3, and the backups archive);
    object events always go to EventBridge so that audit rules can react to them."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_prefix: str,
        kms_key_arn: str | None,
        lifecycle: Lifecycle = "archive",
        force_destroy: bool = False,
        policy_statements: list[Statement] | None = None,
        provider: object | None = None,
        access_log_bucket: str | None = None,
        access_log_sink_account: str | None = None,
        cloudtrail_arn: str | None = None,
        object_lock_days: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        common = {"provider": provider} if provider is not None else {}
        self.bucket = S3Bucket(
            self,
            "bucket",
            bucket_prefix=bucket_prefix,
            force_destroy=force_destroy,
            object_lock_enabled=True if object_lock_days else None,
            **common,
        )
        bucket_id = self.bucket.id
        S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=bucket_id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
            **common,
        )
        self.public_access = S3BucketPublicAccessBlock(
            self,
            "public-access",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            **common,
        )
        self.versioning = S3BucketVersioningA(
            self,
            "versioning",
            bucket=bucket_id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
            **common,
        )
        by_default = S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
            sse_algorithm="aws:kms" if kms_key_arn else "AES256", kms_master_key_id=kms_key_arn
        )
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            bucket=bucket_id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=by_default, bucket_key_enabled=bool(kms_key_arn)
                )
            ],
            **common,
        )
        S3BucketLifecycleConfiguration(
            self,
            "lifecycle",
            bucket=bucket_id,
            rule=[self._lifecycle_rule(lifecycle)],
            depends_on=[self.versioning],
            **common,
        )
        if access_log_bucket is not None:
            S3BucketLoggingA(
                self,
                "access-logging",
                bucket=bucket_id,
                target_bucket=access_log_bucket,
                target_prefix=f"{ACCESS_LOG_PREFIX}{bucket_prefix}",
                **common,
            )
        S3BucketNotification(self, "events", bucket=bucket_id, eventbridge=True, **common)
        if object_lock_days:
            S3BucketObjectLockConfigurationA(
                self,
                "object-lock",
                bucket=bucket_id,
                rule=S3BucketObjectLockConfigurationRuleA(
                    default_retention=S3BucketObjectLockConfigurationRuleDefaultRetentionA(
                        mode="COMPLIANCE", days=object_lock_days
                    )
                ),
                depends_on=[self.versioning],
                **common,
            )
        statements = [deny_insecure_transport([self.bucket.arn, f"{self.bucket.arn}/*"])]
        if access_log_sink_account is not None:
            statements.append(
                Statement(
                    sid="S3ServerAccessLogs",
                    actions=["s3:PutObject"],
                    resources=[f"{self.bucket.arn}/{ACCESS_LOG_PREFIX}*"],
                    principals={"Service": ["logging.s3.amazonaws.com"]},
                    conditions=[("StringEquals", "aws:SourceAccount", [access_log_sink_account])],
                )
            )
        if cloudtrail_arn is not None:
            trail = [("StringEquals", "aws:SourceArn", [cloudtrail_arn])]
            statements += [
                Statement(
                    sid="CloudTrailAclCheck",
                    actions=["s3:GetBucketAcl"],
                    resources=[self.bucket.arn],
                    principals={"Service": ["cloudtrail.amazonaws.com"]},
                    conditions=trail,
                ),
                Statement(
                    sid="CloudTrailWrite",
                    actions=["s3:PutObject"],
                    resources=[f"{self.bucket.arn}/AWSLogs/*"],
                    principals={"Service": ["cloudtrail.amazonaws.com"]},
                    conditions=trail,
                ),
            ]
        statements.extend(policy_statements or [])
        document = policy_document(self, "policy-document", statements)
        self.policy = S3BucketPolicy(
            self, "policy", bucket=bucket_id, policy=document.json, depends_on=[self.public_access], **common
        )

    @staticmethod
    def _lifecycle_rule(lifecycle: Lifecycle) -> S3BucketLifecycleConfigurationRule:
        serving = lifecycle == "serving"
        current_tiers = () if serving else ARCHIVE_TIERS
        noncurrent_tiers = SERVING_NONCURRENT_TIERS if serving else ARCHIVE_TIERS
        transitions = [S3BucketLifecycleConfigurationRuleTransition(days=d, storage_class=c) for d, c in current_tiers]
        noncurrent = [
            S3BucketLifecycleConfigurationRuleNoncurrentVersionTransition(noncurrent_days=d, storage_class=c)
            for d, c in noncurrent_tiers
        ]
        return S3BucketLifecycleConfigurationRule(
            id=f"{lifecycle}-tiering",
            status="Enabled",
            filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
            transition=transitions or None,
            noncurrent_version_transition=noncurrent,
            expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=LOG_EXPIRY_DAYS)]
            if lifecycle == "logs"
            else None,
            noncurrent_version_expiration=[
                S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                    noncurrent_days=LOG_EXPIRY_DAYS if lifecycle == "logs" else NONCURRENT_EXPIRY_DAYS
                )
            ],
            abort_incomplete_multipart_upload=[
                S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=7)
            ],
        )

    @property
    def arn(self) -> str:
        return self.bucket.arn

    @property
    def name(self) -> str:
        return self.bucket.bucket
