"""The delivery pipeline, stack `shared-pipeline`: one per account, so it is deliberately NOT a LayerStack
(`<stage>-<role>-<layer>`): it belongs to no stage or role, and `cdktf deploy '<stage>-*'` never matches it.

CodePipeline V2: source (CodeStar connection) -> Verify (`make test`: lint, synth, policy gate, tests) ->
Images (one per workload, tagged with the commit SHA) -> DeployDev -> DeployStaging -> manual approval ->
DeployProd, each deploy being CodeBuild running `cdktf deploy '<stage>-*'`. The buildspecs are files in
the repository (ci/buildspecs/). Each CodeBuild project has its own role with only what its stage needs."""

from __future__ import annotations

from pathlib import Path

from cdktf import S3Backend, TerraformStack
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.codebuild_project import (
    CodebuildProject,
    CodebuildProjectArtifacts,
    CodebuildProjectEnvironment,
    CodebuildProjectEnvironmentEnvironmentVariable,
    CodebuildProjectLogsConfig,
    CodebuildProjectLogsConfigCloudwatchLogs,
    CodebuildProjectSource,
)
from cdktf_cdktf_provider_aws.codepipeline import (
    Codepipeline,
    CodepipelineArtifactStore,
    CodepipelineArtifactStoreEncryptionKey,
    CodepipelineStage,
    CodepipelineStageAction,
)
from cdktf_cdktf_provider_aws.codestarconnections_connection import CodestarconnectionsConnection
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from peakshop_constructs.kms import EncryptionKey, logs_statement
from peakshop_constructs.policy import Statement, assume_role_policy, policy_document
from peakshop_constructs.secure_bucket import SecureBucket
from stacks.config import PipelineConfig, StageConfig

STACK_NAME = "shared-pipeline"
ROOT = Path(__file__).resolve().parents[1]
BUILDSPECS = {"verify": "ci/buildspecs/verify.yml", "images": "ci/buildspecs/images.yml"}
DEPLOY_BUILDSPEC = "ci/buildspecs/deploy.yml"
BUILD_IMAGE = "aws/codebuild/standard:7.0"
LOG_RETENTION_DAYS = 400
SOURCE_NAMESPACE = "SourceVariables"
COMMIT_SHA = f"#{{{SOURCE_NAMESPACE}.CommitId}}"
ECR_PUSH_ACTIONS = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
]


def deployer_role_name(stage: str) -> str:
    """The role a stage's deploy assumes (bootstrapped per account; also an EKS admin in config)."""
    return f"peakshop-{stage}-deployer"


class PipelineStack(TerraformStack):
    def __init__(self, scope: Construct, config: PipelineConfig, stages: list[StageConfig]) -> None:
        super().__init__(scope, STACK_NAME)
        self.config = config
        S3Backend(
            self,
            bucket=config.backend.bucket,
            key=config.backend.key_for(STACK_NAME),
            region=config.backend.region,
            encrypt=True,
        )
        self.add_override("terraform.backend.s3.use_lockfile", True)
        AwsProvider(
            self,
            "aws",
            region=config.region,
            default_tags=[AwsProviderDefaultTags(tags={**config.tags.for_stage("shared"), "layer": "pipeline"})],
        )
        self.caller = DataAwsCallerIdentity(self, "caller")
        self.partition = DataAwsPartition(self, "partition").partition
        account_root = f"arn:{self.partition}:iam::{self.caller.account_id}:root"
        self.log_group_name = "/peakshop/pipeline/codebuild"
        log_group_arn = (
            f"arn:{self.partition}:logs:{config.region}:{self.caller.account_id}:log-group:{self.log_group_name}"
        )
        self.key = EncryptionKey(
            self,
            "key",
            alias="peakshop-pipeline",
            description="Pipeline artifacts and build logs",
            account_root_arn=account_root,
            account_id=self.caller.account_id,
            service_statements=[logs_statement(config.region, [log_group_arn])],
        )
        logs = SecureBucket(
            self, "pipeline-logs", bucket_prefix="peakshop-pipeline-logs-", kms_key_arn=None, lifecycle="logs",
            access_log_sink_account=self.caller.account_id,
        )  # fmt: skip
        self.artifacts = SecureBucket(
            self,
            "artifacts",
            bucket_prefix="peakshop-pipeline-artifacts-",
            kms_key_arn=self.key.arn,
            access_log_bucket=logs.name,
        )
        self.log_group = CloudwatchLogGroup(
            self, "builds", name=self.log_group_name, retention_in_days=LOG_RETENTION_DAYS, kms_key_id=self.key.arn
        )
        self.connection = CodestarconnectionsConnection(self, "github", name="peakshop-github", provider_type="GitHub")
        self.projects: dict[str, CodebuildProject] = {}
        self._project("verify", BUILDSPECS["verify"], [])
        self._project(
            "images",
            BUILDSPECS["images"],
            [
                Statement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
                Statement(
                    sid="EcrPush",
                    actions=ECR_PUSH_ACTIONS,
                    resources=[
                        f"arn:{self.partition}:ecr:{config.region}:{self.caller.account_id}:repository/peakshop/{s.name}/*"
                        for s in stages
                    ],
                ),
            ],
            privileged=True,  # docker build needs the Docker daemon
        )
        for stage in stages:
            deployer = f"arn:{self.partition}:iam::{self.caller.account_id}:role/{deployer_role_name(stage.name)}"
            self._project(
                f"deploy-{stage.name}",
                DEPLOY_BUILDSPEC,
                [Statement(sid="AssumeStageDeployer", actions=["sts:AssumeRole"], resources=[deployer])],
                env={"STAGE": stage.name, "DEPLOYER_ROLE_ARN": deployer},
            )
        self.pipeline = self._pipeline([s.name for s in stages])

    # -------------------------------------------------------------------------------------------- builds
    def _project(
        self,
        name: str,
        buildspec: str,
        statements: list[Statement],
        *,
        env: dict[str, str] | None = None,
        privileged: bool = False,
    ) -> None:
        if not (ROOT / buildspec).is_file():
            raise FileNotFoundError(f"{buildspec}: the buildspec the {name} project runs is missing")
        role = IamRole(
            self,
            f"{name}-role",
            name=f"peakshop-pipeline-{name}",
            assume_role_policy=assume_role_policy(self, f"{name}-trust", "codebuild.amazonaws.com").json,
        )
        common = [
            Statement(
                sid="BuildLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[f"{self.log_group.arn}:log-stream:*"],
            ),
            Statement(
                sid="Artifacts",
                actions=["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
                resources=[f"{self.artifacts.arn}/*"],
            ),
            Statement(
                sid="ArtifactKey",
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"],
                resources=[self.key.arn],
            ),
        ]
        IamRolePolicy(
            self,
            f"{name}-policy",
            role=role.id,
            policy=policy_document(self, f"{name}-permissions", common + statements).json,
        )
        self.projects[name] = CodebuildProject(
            self,
            f"project-{name}",
            name=f"peakshop-{name}",
            service_role=role.arn,
            encryption_key=self.key.arn,
            build_timeout=120,
            source=CodebuildProjectSource(type="CODEPIPELINE", buildspec=buildspec),
            artifacts=CodebuildProjectArtifacts(type="CODEPIPELINE"),
            environment=CodebuildProjectEnvironment(
                compute_type="BUILD_GENERAL1_LARGE",
                image=BUILD_IMAGE,
                type="LINUX_CONTAINER",
                image_pull_credentials_type="CODEBUILD",
                privileged_mode=privileged,
                environment_variable=[
                    CodebuildProjectEnvironmentEnvironmentVariable(name=k, value=v) for k, v in (env or {}).items()
                ]
                or None,
            ),
            logs_config=CodebuildProjectLogsConfig(
                cloudwatch_logs=CodebuildProjectLogsConfigCloudwatchLogs(
                    status="ENABLED", group_name=self.log_group.name, stream_name=name
                )
            ),
        )

    # ------------------------------------------------------------------------------------------ pipeline
    def _pipeline(self, stages: list[str]) -> Codepipeline:
        role = IamRole(
            self,
            "pipeline-role",
            name="peakshop-pipeline",
            assume_role_policy=assume_role_policy(self, "pipeline-trust", "codepipeline.amazonaws.com").json,
        )
        statements = [
            Statement(sid="Source", actions=["codestar-connections:UseConnection"], resources=[self.connection.arn]),
            Statement(
                sid="Builds",
                actions=["codebuild:StartBuild", "codebuild:BatchGetBuilds"],
                resources=[p.arn for p in self.projects.values()],
            ),
            Statement(
                sid="Artifacts",
                actions=["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:GetBucketVersioning"],
                resources=[self.artifacts.arn, f"{self.artifacts.arn}/*"],
            ),
            Statement(
                sid="ArtifactKey",
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"],
                resources=[self.key.arn],
            ),
        ]
        IamRolePolicy(
            self, "pipeline-policy", role=role.id, policy=policy_document(self, "pipeline-permissions", statements).json
        )

        def build(name: str, project: str, inputs: list[str], outputs: list[str] | None = None) -> CodepipelineStage:
            return CodepipelineStage(
                name=name,
                action=[
                    CodepipelineStageAction(
                        name=name,
                        category="Build",
                        owner="AWS",
                        provider="CodeBuild",
                        version="1",
                        input_artifacts=inputs,
                        output_artifacts=outputs,
                        configuration={
                            "ProjectName": self.projects[project].name,
                            "EnvironmentVariables": (
                                f'[{{"name":"COMMIT_SHA","value":"{COMMIT_SHA}","type":"PLAINTEXT"}},'
                                f'{{"name":"IMAGE_TAG","value":"{COMMIT_SHA}","type":"PLAINTEXT"}}]'
                            ),
                        },
                    )
                ],
            )

        pipeline_stages = [
            CodepipelineStage(
                name="Source",
                action=[
                    CodepipelineStageAction(
                        name="Source",
                        category="Source",
                        owner="AWS",
                        provider="CodeStarSourceConnection",
                        version="1",
                        namespace=SOURCE_NAMESPACE,
                        output_artifacts=["source"],
                        configuration={
                            "ConnectionArn": self.connection.arn,
                            "FullRepositoryId": self.config.repository,
                            "BranchName": self.config.branch,
                            "DetectChanges": "true",
                        },
                    )
                ],
            ),
            build("Verify", "verify", ["source"], ["reports"]),
            build("Images", "images", ["source"], ["images"]),
        ]
        for stage in stages:
            if stage == "prod":
                pipeline_stages.append(
                    CodepipelineStage(
                        name="ApproveProd",
                        action=[
                            CodepipelineStageAction(
                                name="ApproveProd",
                                category="Approval",
                                owner="AWS",
                                provider="Manual",
                                version="1",
                                configuration={"CustomData": f"Deploy {COMMIT_SHA} to prod? Staging is live with it."},
                            )
                        ],
                    )
                )
            pipeline_stages.append(build(f"Deploy{stage.capitalize()}", f"deploy-{stage}", ["source"]))
        return Codepipeline(
            self,
            "pipeline",
            name="peakshop",
            pipeline_type="V2",
            execution_mode="QUEUED",
            role_arn=role.arn,
            artifact_store=[
                CodepipelineArtifactStore(
                    location=self.artifacts.name,
                    type="S3",
                    encryption_key=CodepipelineArtifactStoreEncryptionKey(id=self.key.arn, type="KMS"),
                )
            ],
            stage=pipeline_stages,
        )
