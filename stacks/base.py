"""The base every layer stack shares: S3 remote state (one key per stack), provider with default tags."""

from __future__ import annotations

from cdktf import S3Backend, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from stacks.config import Role, StageConfig, stack_name


class LayerStack(TerraformStack):
    """A stack for one layer of one stage in one role (primary or secondary region)."""

    layer: str = ""

    def __init__(self, scope: Construct, stage: StageConfig, role: Role) -> None:
        name = stack_name(stage.name, role, self.layer)
        super().__init__(scope, name)
        self.stage = stage
        self.role: Role = role
        self.region = stage.region(role)
        self.prefix = f"peakshop-{stage.name}-{'p' if role == 'primary' else 's'}"
        self.tags = stage.tags.for_stage(stage.name)
        S3Backend(
            self,
            bucket=stage.backend.bucket,
            key=stage.backend.key_for(name),
            region=stage.backend.region,
            encrypt=True,
        )
        # cdktf 0.21 has no typed property for S3-native locking (Terraform >= 1.10).
        self.add_override("terraform.backend.s3.use_lockfile", True)
        self.provider = self.aws_provider("aws", self.region.region)
        self.caller = DataAwsCallerIdentity(self, "caller")
        self.partition = DataAwsPartition(self, "partition")

    def aws_provider(self, construct_id: str, region: str, alias: str | None = None) -> AwsProvider:
        return AwsProvider(
            self,
            construct_id,
            region=region,
            alias=alias,
            default_tags=[AwsProviderDefaultTags(tags={**self.tags, "role": self.role, "layer": self.layer})],
        )

    @property
    def account_root_arn(self) -> str:
        return f"arn:{self.partition.partition}:iam::{self.caller.account_id}:root"
