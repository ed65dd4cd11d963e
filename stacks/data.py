"""data layer: KMS keys, RDS for MySQL (Multi-AZ writer + read replicas; in the secondary region a
cross-region replica of the primary writer), ElastiCache Redis, SQS queues with DLQs, and the S3 buckets
with lifecycle tiering and cross-region replication.

The secondary stack owns the cross-region wiring (replica DB, replica buckets, replication rules on the
primary buckets and the application secrets with their replicas, through a primary-region provider alias),
so references only flow primary -> secondary."""

from __future__ import annotations

from cdktf import TerraformOutput
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from cdktf_cdktf_provider_aws.db_instance import DbInstance
from cdktf_cdktf_provider_aws.db_parameter_group import DbParameterGroup, DbParameterGroupParameter
from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.elasticache_replication_group import (
    ElasticacheReplicationGroup,
    ElasticacheReplicationGroupLogDeliveryConfiguration,
)
from cdktf_cdktf_provider_aws.elasticache_subnet_group import ElasticacheSubnetGroup
from cdktf_cdktf_provider_aws.elasticache_user import ElasticacheUser, ElasticacheUserAuthenticationMode
from cdktf_cdktf_provider_aws.elasticache_user_group import ElasticacheUserGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.s3_bucket_replication_configuration import (
    S3BucketReplicationConfigurationA,
    S3BucketReplicationConfigurationRule,
    S3BucketReplicationConfigurationRuleDeleteMarkerReplication,
    S3BucketReplicationConfigurationRuleDestination,
    S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration,
    S3BucketReplicationConfigurationRuleFilter,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteria,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects,
)
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret, SecretsmanagerSecretReplica
from cdktf_cdktf_provider_aws.secretsmanager_secret_policy import SecretsmanagerSecretPolicy
from constructs import Construct

from peakshop_constructs.kms import SERVICE_KEY_ACTIONS, EncryptionKey, logs_statement
from peakshop_constructs.policy import Statement, assume_role_policy, policy_document
from peakshop_constructs.queue import QueueWithDlq
from peakshop_constructs.secure_bucket import Lifecycle, SecureBucket
from stacks.base import LayerStack
from stacks.config import PEAK_REPLICAS_TAG, Role, StageConfig
from stacks.network import NetworkStack
from stacks.workloads import BUCKETS, QUEUES, SECRETS, secret_name

MYSQL_ENGINE_VERSION = "8.4"
MYSQL_PARAMETER_FAMILY = "mysql8.4"
REDIS_ENGINE_VERSION = "7.1"
DB_LOG_EXPORTS = ["error", "general", "slowquery"]
KEY_NAMES = ("rds", "cache", "sqs", "s3", "secrets")
REDIS_APP_USER = "peakshop-app"
# Per bucket, in both regions: CloudFront serves media and storefront (from the replicas after a regional
# failover), so their current objects stay in STANDARD; the backups archive and logs tier to Glacier/Deep Archive.
BUCKET_LIFECYCLES: dict[str, Lifecycle] = {
    "media": "serving",
    "storefront": "serving",
    "logs": "logs",
    "backups": "archive",
}
# Prod's backups archive and its replica are object-locked instead of copied into two more vaults by AWS Backup,
# as long as its monthly recovery points were kept (stacks/dr.py MONTHLY_RETENTION_DAYS; dr imports this module,
# so a test ties the two).
BACKUPS_LOCK_DAYS = 365


class DataStack(LayerStack):
    layer = "data"

    def __init__(
        self,
        scope: Construct,
        stage: StageConfig,
        role: Role,
        *,
        network: NetworkStack,
        primary: DataStack | None = None,
    ) -> None:
        super().__init__(scope, stage, role)
        if (role == "secondary") != (primary is not None):
            raise ValueError("the secondary data stack, and only it, replicates from a primary data stack")
        self.network = network
        self.primary = primary
        self.keys = {name: self._key(name) for name in KEY_NAMES}
        self.log_retention = max(stage.sizes.log_retention_days, 365)
        self._database()
        self._cache()
        self.queues = {
            name: QueueWithDlq(
                self,
                f"queue-{name}",
                name=f"{self.prefix}-{name}",
                kms_key_arn=self.keys["sqs"].arn,
                account_id=self.caller.account_id,
            )
            for name in QUEUES
        }
        self._buckets()
        self.secrets: dict[str, SecretsmanagerSecret] = {}
        if primary is not None:
            primary_provider = self.aws_provider("aws-primary", primary.region.region, alias="primary")
            self._replication(primary, primary_provider)
            self._secrets(primary, primary_provider)
        for name, value in (
            ("writer_endpoint", self.writer.address),
            ("redis_endpoint", self.redis.primary_endpoint_address),
        ):
            TerraformOutput(self, name, value=value)

    # ------------------------------------------------------------------------------------------------- keys
    def _key(self, name: str) -> EncryptionKey:
        region = self.region.region
        services = {
            "rds": [],
            "cache": [],
            "sqs": ["sns.amazonaws.com", "events.amazonaws.com"],
            "s3": [],
            "secrets": [],
        }[name]
        statements = (
            [
                Statement(
                    sid="ServiceProducers",
                    actions=SERVICE_KEY_ACTIONS,
                    resources=["*"],
                    principals={"Service": services},
                    conditions=[("StringEquals", "aws:SourceAccount", [self.caller.account_id])],
                )
            ]
            if services
            else []
        )
        if name == "rds":
            statements.append(
                logs_statement(region, [f"arn:{self.partition.partition}:logs:{region}:{self.caller.account_id}:*"])
            )
        return EncryptionKey(
            self,
            f"key-{name}",
            alias=f"{self.prefix}-{name}",
            description=f"Peakshop {self.stage.name} {self.role} {name} encryption",
            account_root_arn=self.account_root_arn,
            account_id=self.caller.account_id,
            service_statements=statements,
        )

    # ------------------------------------------------------------------------------------------------- RDS
    def _database(self) -> None:
        sizes = self.stage.sizes
        prod = self.stage.name == "prod"
        self.db_subnets = DbSubnetGroup(
            self, "db-subnets", name=f"{self.prefix}-db", subnet_ids=self.network.subnet_ids("isolated")
        )
        self.db_parameters = DbParameterGroup(
            self,
            "db-parameters",
            name=f"{self.prefix}-mysql",
            family=MYSQL_PARAMETER_FAMILY,
            parameter=[
                DbParameterGroupParameter(name="require_secure_transport", value="1"),
                DbParameterGroupParameter(name="binlog_format", value="ROW", apply_method="pending-reboot"),
                DbParameterGroupParameter(name="slow_query_log", value="1"),
                DbParameterGroupParameter(name="long_query_time", value="0.5"),
                # The orders schema enforces its state machine with triggers; with binary logging on, MySQL
                # refuses to create them unless this is set (RDS grants no SUPER).
                DbParameterGroupParameter(name="log_bin_trust_function_creators", value="1"),
            ],
        )
        monitoring = IamRole(
            self,
            "rds-monitoring-role",
            name=f"{self.prefix}-rds-monitoring",
            assume_role_policy=assume_role_policy(self, "rds-monitoring-trust", "monitoring.rds.amazonaws.com").json,
        )
        IamRolePolicyAttachment(
            self,
            "rds-monitoring-policy",
            role=monitoring.name,
            policy_arn=f"arn:{self.partition.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
        )
        for log in DB_LOG_EXPORTS:
            # RDS creates these groups itself on first export; declaring them first sets retention and KMS.
            CloudwatchLogGroup(
                self,
                f"db-log-{log}",
                name=f"/aws/rds/instance/{self.prefix}-db/{log}",
                retention_in_days=self.log_retention,
                kms_key_id=self.keys["rds"].arn,
            )
        common = {
            "instance_class": sizes.db_instance_class,
            "storage_encrypted": True,
            "kms_key_id": self.keys["rds"].arn,
            "db_subnet_group_name": self.db_subnets.name,
            "vpc_security_group_ids": [self.network.data_sg.id],
            "parameter_group_name": self.db_parameters.name,
            "performance_insights_enabled": True,
            "performance_insights_kms_key_id": self.keys["rds"].arn,
            "performance_insights_retention_period": 7,
            "monitoring_interval": 60,
            "monitoring_role_arn": monitoring.arn,
            "iam_database_authentication_enabled": True,
            "enabled_cloudwatch_logs_exports": DB_LOG_EXPORTS,
            "auto_minor_version_upgrade": True,
            "copy_tags_to_snapshot": True,
            "publicly_accessible": False,
            "ca_cert_identifier": "rds-ca-rsa2048-g1",
            "deletion_protection": sizes.deletion_protection,
            "apply_immediately": not prod,
        }
        if self.primary is None:
            self.writer = DbInstance(
                self,
                "writer",
                identifier=f"{self.prefix}-db",
                engine="mysql",
                engine_version=MYSQL_ENGINE_VERSION,
                allocated_storage=sizes.db_allocated_storage_gb,
                max_allocated_storage=sizes.db_max_storage_gb,
                storage_type="gp3",
                multi_az=sizes.db_multi_az,
                db_name="peakshop",
                username="peakshop_admin",
                manage_master_user_password=True,  # RDS keeps the password in Secrets Manager, never in state
                master_user_secret_kms_key_id=self.keys["secrets"].arn,
                backup_retention_period=sizes.db_backup_retention_days,
                backup_window="03:00-04:00",
                maintenance_window="sun:04:30-sun:05:30",
                skip_final_snapshot=not prod,
                final_snapshot_identifier=f"{self.prefix}-db-final" if prod else None,
                delete_automated_backups=not prod,
                # The replicas a planned peak runs with (PEAKSHOP_PEAK=true): the cost estimate prices them.
                tags={PEAK_REPLICAS_TAG: str(sizes.db_peak_read_replicas)},
                **common,
            )
            source = self.writer.identifier
        else:
            # Warm standby: the cross-region replica of the primary writer; the failover runbook promotes it.
            self.writer = DbInstance(
                self,
                "cross-region-replica",
                identifier=f"{self.prefix}-db",
                replicate_source_db=self.primary.writer.arn,
                backup_retention_period=sizes.db_backup_retention_days,
                skip_final_snapshot=True,
                **common,
            )
            source = self.writer.identifier
        replicas = sizes.db_read_replicas if self.primary is None else 0
        self.read_replicas = [
            DbInstance(
                self,
                f"read-replica-{index}",
                identifier=f"{self.prefix}-db-read-{index}",
                replicate_source_db=source,
                skip_final_snapshot=True,
                availability_zone=self.region.azs[(index + 1) % len(self.region.azs)],
                **common,
            )
            for index in range(replicas)
        ]

    # ------------------------------------------------------------------------------------------------ Redis
    def _cache(self) -> None:
        sizes = self.stage.sizes
        subnets = ElasticacheSubnetGroup(
            self, "cache-subnets", name=f"{self.prefix}-cache", subnet_ids=self.network.subnet_ids("isolated")
        )
        # IAM authentication (RBAC) instead of a static AUTH token: ElastiCache keeps an auth token in
        # Terraform state, and secrets must never live in state. Pods sign in with their IRSA role.
        default_user = ElasticacheUser(
            self,
            "cache-default-user",
            user_id=f"{self.prefix}-default",
            user_name="default",
            engine="redis",
            access_string="off -@all",
            authentication_mode=ElasticacheUserAuthenticationMode(type="no-password-required"),
        )
        self.cache_app_user = ElasticacheUser(
            self,
            "cache-app-user",
            user_id=f"{self.prefix}-app",
            user_name=f"{self.prefix}-app",
            engine="redis",
            # Redis 7 users get no pub/sub channels unless granted: only the near caches' invalidation channels.
            access_string="on ~* &*:invalidate +@all -@dangerous",
            authentication_mode=ElasticacheUserAuthenticationMode(type="iam"),
        )
        user_group = ElasticacheUserGroup(
            self,
            "cache-users",
            user_group_id=f"{self.prefix}-users",
            engine="redis",
            user_ids=[default_user.user_id, self.cache_app_user.user_id],
        )
        slow_log = CloudwatchLogGroup(
            self,
            "cache-slow-log",
            name=f"/peakshop/{self.stage.name}/redis-slow-log",
            retention_in_days=self.log_retention,
            kms_key_id=self.keys["rds"].arn,
        )
        self.redis = ElasticacheReplicationGroup(
            self,
            "redis",
            replication_group_id=f"{self.prefix}-redis",
            description=f"Peakshop {self.stage.name} {self.role} cache",
            engine="redis",
            engine_version=REDIS_ENGINE_VERSION,
            # The warm standby runs smaller nodes until failover scales them (stacks/failover.py).
            node_type=sizes.cache_node_type if self.primary is None else sizes.secondary_cache_node_type,
            num_cache_clusters=sizes.cache_nodes,
            automatic_failover_enabled=True,
            multi_az_enabled=True,
            at_rest_encryption_enabled="true",
            kms_key_id=self.keys["cache"].arn,
            transit_encryption_enabled=True,
            user_group_ids=[user_group.user_group_id],
            subnet_group_name=subnets.name,
            security_group_ids=[self.network.data_sg.id],
            snapshot_retention_limit=1,
            auto_minor_version_upgrade="true",
            apply_immediately=self.stage.name != "prod",
            log_delivery_configuration=[
                ElasticacheReplicationGroupLogDeliveryConfiguration(
                    destination=slow_log.name,
                    destination_type="cloudwatch-logs",
                    log_format="json",
                    log_type="slow-log",
                )
            ],
        )

    # ---------------------------------------------------------------------------------------------- buckets
    def _buckets(self) -> None:
        suffix = "" if self.primary is None else "-replica"

        def bucket(name: str, *, log_to: str | None = None, log_sink: str | None = None) -> SecureBucket:
            return SecureBucket(
                self,
                f"bucket-{name}",
                bucket_prefix=f"{self.prefix}-{name}{suffix}-",
                # ELB and S3 access logs can only be written with SSE-S3; every other bucket uses the S3 KMS key.
                kms_key_arn=None if name == "logs" else self.keys["s3"].arn,
                lifecycle=BUCKET_LIFECYCLES[name],
                force_destroy=self.stage.name == "dev",
                access_log_bucket=log_to,
                access_log_sink_account=log_sink,
                object_lock_days=self.object_lock_days(name),
            )

        # The logs bucket is the access-log sink of every other bucket in this region (it does not log itself).
        logs = bucket("logs", log_sink=self.caller.account_id)
        self.buckets = {name: logs if name == "logs" else bucket(name, log_to=logs.name) for name in BUCKETS}

    def object_lock_days(self, bucket: str) -> int | None:
        """COMPLIANCE-mode retention of a bucket's objects: the backups archive, in prod only (like the vault lock)."""
        return BACKUPS_LOCK_DAYS if bucket == "backups" and self.stage.name == "prod" else None

    def _replication(self, primary: DataStack, primary_provider: AwsProvider) -> None:
        """Cross-region replication of every primary bucket into its replica here."""
        sources = primary.buckets
        statements = [
            Statement(
                actions=["s3:GetReplicationConfiguration", "s3:ListBucket"], resources=[b.arn for b in sources.values()]
            ),
            Statement(
                actions=["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
                resources=[f"{b.arn}/*" for b in sources.values()],
            ),
            Statement(
                actions=["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                resources=[f"{b.arn}/*" for b in self.buckets.values()],
            ),
            Statement(actions=["kms:Decrypt"], resources=[primary.keys["s3"].arn]),
            Statement(actions=["kms:Encrypt", "kms:GenerateDataKey"], resources=[self.keys["s3"].arn]),
        ]
        locked = [f"{b.arn}/*" for name, b in sources.items() if primary.object_lock_days(name)]
        if locked:
            # S3 copies each locked version's retention and legal hold; the replica bucket is locked too (_buckets).
            statements.append(Statement(actions=["s3:GetObjectRetention", "s3:GetObjectLegalHold"], resources=locked))
        role = IamRole(
            self,
            "replication-role",
            name=f"{self.prefix}-s3-replication",
            assume_role_policy=assume_role_policy(self, "replication-trust", "s3.amazonaws.com").json,
        )
        permissions: DataAwsIamPolicyDocument = policy_document(self, "replication-permissions", statements)
        IamRolePolicy(self, "replication-policy", role=role.id, policy=permissions.json)
        for name, source in sources.items():
            encrypted = name != "logs"
            S3BucketReplicationConfigurationA(
                self,
                f"replication-{name}",
                provider=primary_provider,
                bucket=source.bucket.id,
                role=role.arn,
                rule=[
                    S3BucketReplicationConfigurationRule(
                        id=f"{name}-to-{self.region.region}",
                        status="Enabled",
                        filter=S3BucketReplicationConfigurationRuleFilter(prefix=""),
                        delete_marker_replication=S3BucketReplicationConfigurationRuleDeleteMarkerReplication(
                            status="Enabled"
                        ),
                        source_selection_criteria=S3BucketReplicationConfigurationRuleSourceSelectionCriteria(
                            sse_kms_encrypted_objects=S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects(
                                status="Enabled"
                            )
                        )
                        if encrypted
                        else None,
                        destination=S3BucketReplicationConfigurationRuleDestination(
                            bucket=self.buckets[name].arn,
                            storage_class="STANDARD",
                            encryption_configuration=S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration(
                                replica_kms_key_id=self.keys["s3"].arn
                            )
                            if encrypted
                            else None,
                        ),
                    )
                ],
            )

    # ---------------------------------------------------------------------------------------------- secrets
    def _secrets(self, primary: DataStack, primary_provider: AwsProvider) -> None:
        """The application secrets (stacks/workloads.py SECRETS) in the primary region, each replicated here
        under this region's `secrets` key, which the secondary cluster's roles may decrypt with. Created here
        rather than in the primary stack because the replica key lives in this stack and references only flow
        primary -> secondary. No secret version: the value never enters Terraform state; `python -m ops
        secrets init` generates it."""
        recovery_days = 30 if self.stage.name == "prod" else 7
        for name in SECRETS:
            secret = SecretsmanagerSecret(
                self,
                f"secret-{name}",
                provider=primary_provider,
                name=secret_name(self.stage.name, name),
                description=f"Peakshop {self.stage.name} {name} (value set by `python -m ops secrets init`)",
                kms_key_id=primary.keys["secrets"].arn,
                recovery_window_in_days=recovery_days,
                replica=[SecretsmanagerSecretReplica(region=self.region.region, kms_key_id=self.keys["secrets"].arn)],
            )
            document = policy_document(
                self,
                f"secret-{name}-policy-document",
                [
                    # In a secret's resource policy "*" is the secret itself.
                    Statement(
                        sid="DenyInsecureTransport",
                        effect="Deny",
                        actions=["secretsmanager:*"],
                        resources=["*"],
                        principals={"*": ["*"]},
                        conditions=[("Bool", "aws:SecureTransport", ["false"])],
                    ),
                    Statement(
                        sid="AccountOnly",
                        effect="Deny",
                        actions=["secretsmanager:*"],
                        resources=["*"],
                        principals={"*": ["*"]},
                        conditions=[
                            ("StringNotEquals", "aws:PrincipalAccount", [self.caller.account_id]),
                            ("Bool", "aws:PrincipalIsAWSService", ["false"]),
                        ],
                    ),
                ],
            )
            SecretsmanagerSecretPolicy(
                self,
                f"secret-{name}-policy",
                provider=primary_provider,
                secret_arn=secret.arn,
                policy=document.json,
                block_public_policy=True,
            )
            self.secrets[name] = secret
