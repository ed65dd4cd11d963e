"""dr layer: AWS Backup (a vault per region, KMS, vault lock in prod; in the primary region a plan for the
database and the buckets with daily and monthly rules, cold storage, and copies into the secondary vault),
the regional failover runbook as a Step Functions state machine in the secondary region (stacks/failover.py),
and, in the primary region, the FIS experiment templates ops run as drills (stacks/drills.py).

Build order: the secondary dr stack first (its vault is the copy target), then the primary one."""

from __future__ import annotations

from cdktf import Fn, TerraformLocal
from cdktf_cdktf_provider_aws.backup_plan import (
    BackupPlan,
    BackupPlanRule,
    BackupPlanRuleCopyAction,
    BackupPlanRuleCopyActionLifecycle,
    BackupPlanRuleLifecycle,
)
from cdktf_cdktf_provider_aws.backup_selection import BackupSelection
from cdktf_cdktf_provider_aws.backup_vault import BackupVault
from cdktf_cdktf_provider_aws.backup_vault_lock_configuration import BackupVaultLockConfiguration
from cdktf_cdktf_provider_aws.backup_vault_notifications import BackupVaultNotifications
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.sfn_state_machine import (
    SfnStateMachine,
    SfnStateMachineLoggingConfiguration,
    SfnStateMachineTracingConfiguration,
)
from constructs import Construct

from peakshop_constructs.kms import EncryptionKey, logs_statement
from peakshop_constructs.policy import Statement, assume_role_policy, policy_document
from stacks.base import LayerStack
from stacks.compute import ComputeStack
from stacks.config import Role, StageConfig
from stacks.data import DataStack
from stacks.drills import Drills, DrillSettings
from stacks.edge import EdgeStack
from stacks.failover import FailoverPlan, NodeGroupTarget, definition
from stacks.observability import ObservabilityStack

# Logs are replicated and expire, so they are not restored; the backups archive is object-locked in prod instead
# (stacks/data.py BACKUPS_LOCK_DAYS): backing it up again kept it twice more, in both vaults.
BACKED_UP_BUCKETS = ("media", "storefront")
DAILY_RETENTION_DAYS = 35
MONTHLY_COLD_AFTER_DAYS = 30
MONTHLY_RETENTION_DAYS = 365  # cold storage needs >= 90 days after the transition
VAULT_LOCK_MIN_DAYS = 7
VAULT_LOCK_MAX_DAYS = 400
VAULT_LOCK_GRACE_DAYS = 3  # after this the lock is immutable (compliance mode)
BACKUP_POLICIES = (
    "service-role/AWSBackupServiceRolePolicyForBackup",
    "service-role/AWSBackupServiceRolePolicyForRestores",
    "AWSBackupServiceRolePolicyForS3Backup",
    "AWSBackupServiceRolePolicyForS3Restore",
)
VAULT_EVENTS = ["BACKUP_JOB_FAILED", "COPY_JOB_FAILED", "RESTORE_JOB_COMPLETED", "S3_BACKUP_OBJECT_FAILED"]


class DrStack(LayerStack):
    layer = "dr"

    def __init__(
        self,
        scope: Construct,
        stage: StageConfig,
        role: Role,
        *,
        data: DataStack,
        observability: ObservabilityStack,
        compute: ComputeStack,
        edge: EdgeStack,
        standby: DrStack | None = None,
    ) -> None:
        super().__init__(scope, stage, role)
        if (role == "primary") != (standby is not None):
            raise ValueError("the primary dr stack, and only it, copies its backups into a standby dr stack")
        self.data = data
        self.observability = observability
        self.compute = compute
        self.edge = edge
        self.log_retention = max(stage.sizes.log_retention_days, 365)
        self._vault()
        if standby is not None:
            self._plan(standby)
            self.drills = Drills(
                self,
                "drills",
                settings=DrillSettings(
                    prefix=self.prefix,
                    partition=self.partition.partition,
                    region=self.region.region,
                    account_id=self.caller.account_id,
                    stop_alarm_arn=observability.customer_impact.arn,
                    db_arn=data.writer.arn,
                    db_multi_az=stage.sizes.db_multi_az,
                    cluster_name=compute.cluster.name,
                    cluster_arn=compute.cluster.arn,
                    app_node_group=compute.node_groups["app"].node_group_name,
                    drill_az=self.region.azs[0],
                ),
            )
        else:
            self._failover()

    # ------------------------------------------------------------------------------------------------ vault
    def _vault(self) -> None:
        self.vault_key = EncryptionKey(
            self,
            "vault-key",
            alias=f"{self.prefix}-backup",
            description=f"Peakshop {self.stage.name} {self.role} AWS Backup vault",
            account_root_arn=self.account_root_arn,
            account_id=self.caller.account_id,
        )
        self.vault = BackupVault(
            self, "vault", name=f"{self.prefix}-vault", kms_key_arn=self.vault_key.arn, force_destroy=False
        )
        if self.stage.name == "prod":
            BackupVaultLockConfiguration(
                self,
                "vault-lock",
                backup_vault_name=self.vault.name,
                min_retention_days=VAULT_LOCK_MIN_DAYS,
                max_retention_days=VAULT_LOCK_MAX_DAYS,
                changeable_for_days=VAULT_LOCK_GRACE_DAYS,
            )
        BackupVaultNotifications(
            self,
            "vault-notifications",
            backup_vault_name=self.vault.name,
            backup_vault_events=VAULT_EVENTS,
            sns_topic_arn=self.observability.alerts.arn,
        )

    # ------------------------------------------------------------------------------------------------- plan
    def _plan(self, standby: DrStack) -> None:
        def copy(cold_after: int | None, delete_after: int) -> BackupPlanRuleCopyAction:
            return BackupPlanRuleCopyAction(
                destination_vault_arn=standby.vault.arn,
                lifecycle=BackupPlanRuleCopyActionLifecycle(
                    cold_storage_after=cold_after,
                    delete_after=delete_after,
                    opt_in_to_archive_for_supported_resources=True if cold_after else None,
                ),
            )

        self.plan = BackupPlan(
            self,
            "plan",
            name=f"{self.prefix}-plan",
            rule=[
                BackupPlanRule(
                    rule_name="daily",
                    target_vault_name=self.vault.name,
                    schedule="cron(0 5 * * ? *)",
                    start_window=60,
                    completion_window=360,
                    lifecycle=BackupPlanRuleLifecycle(delete_after=DAILY_RETENTION_DAYS),
                    copy_action=[copy(None, DAILY_RETENTION_DAYS)],
                ),
                BackupPlanRule(
                    rule_name="monthly",
                    target_vault_name=self.vault.name,
                    schedule="cron(0 6 1 * ? *)",
                    start_window=60,
                    completion_window=720,
                    # Resources that cannot go to cold storage stay warm (opt-in only moves supported ones).
                    lifecycle=BackupPlanRuleLifecycle(
                        cold_storage_after=MONTHLY_COLD_AFTER_DAYS,
                        delete_after=MONTHLY_RETENTION_DAYS,
                        opt_in_to_archive_for_supported_resources=True,
                    ),
                    copy_action=[copy(MONTHLY_COLD_AFTER_DAYS, MONTHLY_RETENTION_DAYS)],
                ),
            ],
        )
        role = IamRole(
            self,
            "backup-role",
            name=f"{self.prefix}-backup",
            assume_role_policy=assume_role_policy(self, "backup-trust", "backup.amazonaws.com").json,
        )
        for index, policy in enumerate(BACKUP_POLICIES):
            IamRolePolicyAttachment(
                self,
                f"backup-policy-{index}",
                role=role.name,
                policy_arn=f"arn:{self.partition.partition}:iam::aws:policy/{policy}",
            )
        resources = [self.data.writer.arn, *(self.data.buckets[name].arn for name in BACKED_UP_BUCKETS)]
        trail = getattr(self.observability, "trail", None)
        if trail is not None:
            resources.append(trail.bucket.arn)  # audit logs get an off-region copy too
        BackupSelection(
            self,
            "selection",
            name=f"{self.prefix}-selection",
            plan_id=self.plan.id,
            iam_role_arn=role.arn,
            resources=resources,
        )

    # --------------------------------------------------------------------------------------------- failover
    def _failover(self) -> None:
        """The failover runbook, in the region that survives (see stacks/failover.py)."""
        region = self.region.region
        name = f"{self.prefix}-failover"
        log_group_name = f"/aws/vendedlogs/states/{name}"
        log_group_arn = (
            f"arn:{self.partition.partition}:logs:{region}:{self.caller.account_id}:log-group:{log_group_name}"
        )
        logs_key = EncryptionKey(
            self,
            "failover-logs-key",
            alias=f"{name}-logs",
            description="Failover state machine execution logs",
            account_root_arn=self.account_root_arn,
            account_id=self.caller.account_id,
            service_statements=[logs_statement(region, [log_group_arn])],
        )
        log_group = CloudwatchLogGroup(
            self, "failover-logs", name=log_group_name, retention_in_days=self.log_retention, kms_key_id=logs_key.arn
        )
        # After failover the standby region carries prod-sized traffic: scale its app nodes and cache to the
        # primary's size.
        target = self.stage.sizes.app_nodes
        app_group = self.compute.node_groups["app"]
        primary_check = self.edge.health_checks["primary"].id
        self.failover_plan = FailoverPlan(
            db_instance=self.data.writer.identifier,
            backup_retention_days=self.stage.sizes.db_backup_retention_days,
            alerts_topic_arn=self.observability.alerts.arn,
            node_groups=[
                NodeGroupTarget(
                    self.compute.cluster.name,
                    app_group.node_group_name,
                    target.min_size,
                    target.desired_size,
                    target.max_size,
                )
            ],
            cache_group=self.data.redis.replication_group_id,
            cache_node_type=self.stage.sizes.cache_node_type,
            primary_health_check_id=primary_check,
        )
        db_arn = self.data.writer.arn
        statements = [
            Statement(
                sid="PromoteStandbyDatabase",
                actions=["rds:PromoteReadReplica", "rds:ModifyDBInstance", "rds:DescribeDBInstances"],
                resources=[db_arn],
            ),
            Statement(
                sid="ScaleStandbyNodes",
                actions=["eks:UpdateNodegroupConfig", "eks:DescribeNodegroup"],
                resources=[app_group.arn],
            ),
            Statement(
                sid="ScaleStandbyCache",
                actions=["elasticache:ModifyReplicationGroup"],
                resources=[self.data.redis.arn],
            ),
            Statement(
                sid="MoveDns",
                actions=["route53:UpdateHealthCheck"],
                resources=[f"arn:{self.partition.partition}:route53:::healthcheck/{primary_check}"],
            ),
            Statement(sid="Report", actions=["sns:Publish"], resources=[self.observability.alerts.arn]),
            Statement(
                sid="ReportEncrypted",
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[self.observability.alerts.key.arn],
            ),
            # Log delivery and X-Ray APIs have no resource-level permissions.
            Statement(
                sid="ExecutionLogs",
                actions=[
                    "logs:CreateLogDelivery",
                    "logs:GetLogDelivery",
                    "logs:UpdateLogDelivery",
                    "logs:DeleteLogDelivery",
                    "logs:ListLogDeliveries",
                    "logs:PutResourcePolicy",
                    "logs:DescribeResourcePolicies",
                    "logs:DescribeLogGroups",
                ],
                resources=["*"],
            ),
            Statement(
                sid="Tracing",
                actions=[
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                ],
                resources=["*"],
            ),
        ]
        role = IamRole(
            self,
            "failover-role",
            name=name,
            assume_role_policy=assume_role_policy(self, "failover-trust", "states.amazonaws.com").json,
        )
        IamRolePolicy(
            self, "failover-policy", role=role.id, policy=policy_document(self, "failover-permissions", statements).json
        )
        self.failover = SfnStateMachine(
            self,
            "failover",
            name=name,
            role_arn=role.arn,
            type="STANDARD",
            # A Terraform local, not an inline jsonencode({...}): checkov cannot parse nested references there.
            definition=Fn.jsonencode(
                TerraformLocal(self, "failover_definition", definition(self.failover_plan)).expression
            ),
            logging_configuration=SfnStateMachineLoggingConfiguration(
                level="ALL", include_execution_data=True, log_destination=f"{log_group.arn}:*"
            ),
            tracing_configuration=SfnStateMachineTracingConfiguration(enabled=True),
        )
