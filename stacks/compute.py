"""compute layer: the EKS cluster that runs Peakshop in one region, its node groups, IRSA roles, the
Terraform-owned Application Load Balancer with one target group per web service, and the ECR repositories.

Node scaling: Cluster Autoscaler, not Karpenter. The challenge asks for EC2 Auto Scaling groups with
per-stage min/max; Cluster Autoscaler scales exactly those groups (EKS tags managed node groups for its
auto-discovery), so the configured `max_size` stays the hard cost ceiling and the warm-standby region's
reduced sizes mean what they say. Karpenter would launch nodes outside the groups, needing an interruption
queue, EventBridge rules and a second source of instance limits for no benefit with on-demand Graviton
nodes of two instance types.

Origin protection: the ALB's security groups admit only CloudFront's origin-facing ranges (network layer)
and the Route 53 health checkers (here); every forwarding rule also requires the `X-Peakshop-Origin-Verify`
header that only our distribution sends, so another CloudFront distribution pointed at the ALB gets the 403
default action. (A CloudFront VPC origin with an internal ALB would need no header, but the Route 53 health
checks and the api.<domain> failover records need a public endpoint.) The header value is not a credential:
whatever value the distribution and the listener rules carry is stored in their state (neither resource
has write-only attributes), so a random_password or a Secrets Manager value would put a secret into state
in three places while protecting nothing more. The value is a digest of the primary ALB's and cluster's
ARNs (unpublished, not derivable from the ALB's DNS name, already in this state), shared by both regions so
that the failover origin accepts it too. Rotate it by replacing the ALB.
"""

from __future__ import annotations

import re

from cdktf import Fn, TerraformIterator, TerraformOutput, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_ec2_managed_prefix_list import DataAwsEc2ManagedPrefixList
from cdktf_cdktf_provider_aws.data_aws_route53_zone import DataAwsRoute53Zone
from cdktf_cdktf_provider_aws.ecr_replication_configuration import (
    EcrReplicationConfiguration,
    EcrReplicationConfigurationReplicationConfiguration,
    EcrReplicationConfigurationReplicationConfigurationRule,
    EcrReplicationConfigurationReplicationConfigurationRuleDestination,
    EcrReplicationConfigurationReplicationConfigurationRuleRepositoryFilter,
)
from cdktf_cdktf_provider_aws.ecr_repository import (
    EcrRepository,
    EcrRepositoryEncryptionConfiguration,
    EcrRepositoryImageScanningConfiguration,
)
from cdktf_cdktf_provider_aws.ecr_repository_creation_template import (
    EcrRepositoryCreationTemplate,
    EcrRepositoryCreationTemplateEncryptionConfiguration,
)
from cdktf_cdktf_provider_aws.eks_access_entry import EksAccessEntry
from cdktf_cdktf_provider_aws.eks_access_policy_association import (
    EksAccessPolicyAssociation,
    EksAccessPolicyAssociationAccessScope,
)
from cdktf_cdktf_provider_aws.eks_addon import EksAddon
from cdktf_cdktf_provider_aws.eks_cluster import (
    EksCluster,
    EksClusterAccessConfig,
    EksClusterEncryptionConfig,
    EksClusterEncryptionConfigProvider,
    EksClusterUpgradePolicy,
    EksClusterVpcConfig,
)
from cdktf_cdktf_provider_aws.eks_node_group import (
    EksNodeGroup,
    EksNodeGroupLaunchTemplate,
    EksNodeGroupScalingConfig,
    EksNodeGroupTaint,
    EksNodeGroupUpdateConfig,
)
from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.launch_template import (
    LaunchTemplate,
    LaunchTemplateBlockDeviceMappings,
    LaunchTemplateBlockDeviceMappingsEbs,
    LaunchTemplateMetadataOptions,
)
from cdktf_cdktf_provider_aws.lb import Lb, LbAccessLogs
from cdktf_cdktf_provider_aws.lb_listener import (
    LbListener,
    LbListenerDefaultAction,
    LbListenerDefaultActionFixedResponse,
    LbListenerDefaultActionRedirect,
)
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup
from cdktf_cdktf_provider_aws.route53_record import Route53Record, Route53RecordAlias
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from constructs import Construct

from peakshop_constructs.irsa import IrsaRole, OidcIssuer
from peakshop_constructs.kms import EncryptionKey, logs_statement
from peakshop_constructs.policy import Statement, assume_role_policy, policy_document
from peakshop_constructs.waf import ManagedRulesWebAcl
from peakshop_constructs.web_service_target import WebServiceTarget, forward_rule
from stacks.base import LayerStack
from stacks.config import NodeGroupSize, Role, StageConfig
from stacks.data import DataStack
from stacks.irsa_policies import CONTROLLERS, PolicyScope, controller_statements, workload_statements
from stacks.network import HTTPS_PORT, NetworkStack
from stacks.workloads import (
    NAMESPACE,
    READINESS_PATH,
    REGION_HEALTH_SERVICE,
    WEB_SERVICES,
    WORKLOADS,
    irsa_role_name,
)

ORIGIN_VERIFY_HEADER = "X-Peakshop-Origin-Verify"
CONTROL_PLANE_LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
ADDONS = ("vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver", "eks-pod-identity-agent")
# Add-ons that call AWS run under their own IRSA role (not the node role), with the AWS managed policy.
ADDON_ROLES = {"vpc-cni": "vpc-cni", "aws-ebs-csi-driver": "ebs-csi"}
MANAGED_CONTROLLER_POLICIES = {"vpc-cni": "AmazonEKS_CNI_Policy", "ebs-csi": "service-role/AmazonEBSCSIDriverPolicy"}
# TLS 1.3 and 1.2 with forward-secret AEAD ciphers only.
ALB_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
REGIONAL_RATE_LIMIT = 2000  # requests per client address per 5 minutes, behind the CloudFront limit
NODE_VOLUME_GB = 50
_GRAVITON = re.compile(r"^[a-z]+\d+g[a-z]*\.")


def ami_type(instance_types: tuple[str, ...]) -> str:
    """AL2023 for the node group's architecture; a group cannot mix Graviton and x86 instance types."""
    graviton = {bool(_GRAVITON.match(t)) for t in instance_types}
    if len(graviton) != 1:
        raise ValueError(f"node group mixes Graviton and x86 instance types: {', '.join(instance_types)}")
    return "AL2023_ARM_64_STANDARD" if graviton.pop() else "AL2023_x86_64_STANDARD"


class ComputeStack(LayerStack):
    layer = "compute"

    def __init__(
        self,
        scope: Construct,
        stage: StageConfig,
        role: Role,
        *,
        network: NetworkStack,
        data: DataStack,
        primary: ComputeStack | None = None,
    ) -> None:
        super().__init__(scope, stage, role)
        if (role == "secondary") != (primary is not None):
            raise ValueError("the secondary compute stack, and only it, takes the primary compute stack")
        self.network = network
        self.data = data
        self.cluster_name = self.prefix
        self.log_retention = max(stage.sizes.log_retention_days, 365)
        self.arn_prefix = f"arn:{self.partition.partition}"
        self.zone = DataAwsRoute53Zone(self, "zone", name=stage.domain, private_zone=False)
        self.logs_key = self._logs_key()
        self._cluster()
        self._irsa_roles()
        # The CNI comes before the nodes: they only become Ready once pod networking runs.
        self.addons: dict[str, EksAddon] = {"vpc-cni": self._addon("vpc-cni")}
        self._node_groups()
        for addon in ADDONS:
            if addon not in self.addons:
                # CoreDNS and the CSI controller are Deployments: they need nodes to become ACTIVE.
                needs_nodes = addon in {"coredns", "aws-ebs-csi-driver"}
                self.addons[addon] = self._addon(addon, list(self.node_groups.values()) if needs_nodes else None)
        self._load_balancer(primary)
        self._registry()
        # What the deploy pipeline feeds the charts (TargetGroupBinding ARNs, the cluster, image repositories).
        TerraformOutput(self, "cluster_name", value=self.cluster.name)
        TerraformOutput(self, "target_group_arns", value={n: tg.arn for n, tg in self.target_groups.items()})
        if self.repositories:
            TerraformOutput(self, "repository_urls", value={n: r.repository_url for n, r in self.repositories.items()})

    # --------------------------------------------------------------------------------------------- keys
    def _logs_key(self) -> EncryptionKey:
        region = self.region.region
        groups = [f"/aws/eks/{self.cluster_name}/cluster", f"aws-waf-logs-{self.prefix}*"]
        return EncryptionKey(
            self,
            "logs-key",
            alias=f"{self.prefix}-compute-logs",
            description="CloudWatch Logs encryption for the EKS control plane and the regional WAF",
            account_root_arn=self.account_root_arn,
            account_id=self.caller.account_id,
            service_statements=[
                logs_statement(
                    region, [f"{self.arn_prefix}:logs:{region}:{self.caller.account_id}:log-group:{g}" for g in groups]
                )
            ],
        )

    # ------------------------------------------------------------------------------------------ cluster
    def _managed_policy(self, name: str) -> str:
        return f"{self.arn_prefix}:iam::aws:policy/{name}"

    def _cluster(self) -> None:
        stage = self.stage
        self.secrets_key = EncryptionKey(
            self,
            "eks-secrets-key",
            alias=f"{self.prefix}-eks-secrets",
            description="Envelope encryption of Kubernetes Secrets in etcd",
            account_root_arn=self.account_root_arn,
            account_id=self.caller.account_id,
        )
        cluster_role = IamRole(
            self,
            "cluster-role",
            name=f"{self.prefix}-eks-cluster",
            assume_role_policy=assume_role_policy(self, "cluster-trust", "eks.amazonaws.com").json,
        )
        attachment = IamRolePolicyAttachment(
            self, "cluster-policy", role=cluster_role.name, policy_arn=self._managed_policy("AmazonEKSClusterPolicy")
        )
        # The control plane wraps Secrets' data keys with the customer-managed key (envelope encryption).
        key_use = policy_document(
            self,
            "cluster-secrets-key-use",
            [
                Statement(
                    actions=["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey", "kms:CreateGrant"],
                    resources=[self.secrets_key.arn],
                )
            ],
        )
        key_policy = IamRolePolicy(self, "cluster-secrets-key-policy", role=cluster_role.id, policy=key_use.json)
        # Declared before the cluster so that retention and KMS apply from the first log line.
        log_group = CloudwatchLogGroup(
            self,
            "cluster-logs",
            name=f"/aws/eks/{self.cluster_name}/cluster",
            retention_in_days=self.log_retention,
            kms_key_id=self.logs_key.arn,
        )
        public_cidrs = list(stage.eks_public_access_cidrs)
        self.cluster = EksCluster(
            self,
            "cluster",
            name=self.cluster_name,
            version=stage.eks_version,
            role_arn=cluster_role.arn,
            vpc_config=EksClusterVpcConfig(
                subnet_ids=self.network.subnet_ids("private"),
                endpoint_private_access=True,
                endpoint_public_access=bool(public_cidrs),
                public_access_cidrs=public_cidrs or None,
            ),
            encryption_config=EksClusterEncryptionConfig(
                provider=EksClusterEncryptionConfigProvider(key_arn=self.secrets_key.arn), resources=["secrets"]
            ),
            enabled_cluster_log_types=CONTROL_PLANE_LOGS,
            access_config=EksClusterAccessConfig(
                authentication_mode="API", bootstrap_cluster_creator_admin_permissions=False
            ),
            upgrade_policy=EksClusterUpgradePolicy(support_type="STANDARD"),
            deletion_protection=stage.sizes.deletion_protection,
            depends_on=[attachment, key_policy, log_group],
        )
        for index, role_name in enumerate(stage.eks_admin_roles):
            principal = f"{self.arn_prefix}:iam::{self.caller.account_id}:role/{role_name}"
            entry = EksAccessEntry(
                self, f"admin-{index}", cluster_name=self.cluster.name, principal_arn=principal, type="STANDARD"
            )
            EksAccessPolicyAssociation(
                self,
                f"admin-{index}-policy",
                cluster_name=self.cluster.name,
                principal_arn=entry.principal_arn,
                policy_arn=f"{self.arn_prefix}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                access_scope=EksAccessPolicyAssociationAccessScope(type="cluster"),
            )
        issuer_url = self.cluster.identity.get(0).oidc.get(0).issuer
        self.oidc_provider = IamOpenidConnectProvider(
            self, "oidc", url=issuer_url, client_id_list=["sts.amazonaws.com"]
        )
        self.issuer = OidcIssuer(provider_arn=self.oidc_provider.arn, host=Fn.replace(issuer_url, "https://", ""))

    # -------------------------------------------------------------------------------------- node groups
    def _node_groups(self) -> None:
        node_role = IamRole(
            self,
            "node-role",
            name=f"{self.prefix}-eks-node",
            assume_role_policy=assume_role_policy(self, "node-trust", "ec2.amazonaws.com").json,
        )
        attachments = [
            IamRolePolicyAttachment(self, f"node-{name}", role=node_role.name, policy_arn=self._managed_policy(name))
            for name in (
                "AmazonEKSWorkerNodePolicy",
                "AmazonEC2ContainerRegistryPullOnly",
                "AmazonSSMManagedInstanceCore",
            )
        ]
        # IMDSv2 only and one hop: pods use IRSA, never the node's instance role. The app security group
        # (ALB -> pods, pods -> data) rides on the node ENIs next to the EKS cluster security group.
        template = LaunchTemplate(
            self,
            "node-template",
            name_prefix=f"{self.prefix}-node-",
            update_default_version=True,
            vpc_security_group_ids=[
                self.cluster.vpc_config.cluster_security_group_id,
                self.network.app_sg.id,
            ],
            metadata_options=LaunchTemplateMetadataOptions(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1
            ),
            block_device_mappings=[
                LaunchTemplateBlockDeviceMappings(
                    device_name="/dev/xvda",
                    ebs=LaunchTemplateBlockDeviceMappingsEbs(
                        volume_size=NODE_VOLUME_GB, volume_type="gp3", encrypted="true", delete_on_termination="true"
                    ),
                )
            ],
        )
        sizes = self.stage.sizes
        app_size = sizes.app_nodes if self.role == "primary" else sizes.secondary_app_nodes
        groups: dict[str, tuple[NodeGroupSize, list[EksNodeGroupTaint]]] = {
            # Cluster add-ons and controllers; app pods stay off it unless they tolerate the taint.
            "system": (
                sizes.system_nodes,
                [EksNodeGroupTaint(key="CriticalAddonsOnly", value="true", effect="NO_SCHEDULE")],
            ),
            "app": (app_size, []),
        }
        self.node_groups: dict[str, EksNodeGroup] = {}
        for name, (size, taints) in groups.items():
            self.node_groups[name] = EksNodeGroup(
                self,
                f"nodes-{name}",
                cluster_name=self.cluster.name,
                node_group_name=f"{self.prefix}-{name}",
                node_role_arn=node_role.arn,
                subnet_ids=self.network.subnet_ids("private"),
                instance_types=list(size.instance_types),
                ami_type=ami_type(size.instance_types),
                capacity_type="ON_DEMAND",
                scaling_config=EksNodeGroupScalingConfig(
                    min_size=size.min_size, desired_size=size.desired_size, max_size=size.max_size
                ),
                update_config=EksNodeGroupUpdateConfig(max_unavailable_percentage=33),
                launch_template=EksNodeGroupLaunchTemplate(
                    id=template.id, version=Fn.tostring(template.latest_version)
                ),
                labels={"peakshop/node-group": name},
                taint=taints or None,
                # Cluster Autoscaler owns the desired size between min and max.
                lifecycle=TerraformResourceLifecycle(ignore_changes=["scaling_config[0].desired_size"]),
                depends_on=[*attachments, self.addons["vpc-cni"]],
            )

    # ----------------------------------------------------------------------------------- add-ons, IRSA
    def _irsa_roles(self) -> None:
        self.policy_scope = PolicyScope(
            arn_prefix=self.arn_prefix,
            region=self.region.region,
            account=self.caller.account_id,
            stage=self.stage.name,
            prefix=self.prefix,
            cluster_name=self.cluster_name,
            data=self.data,
        )
        self.irsa_roles: dict[str, IrsaRole] = {}
        for workload in WORKLOADS:
            self.irsa_roles[workload.name] = IrsaRole(
                self,
                f"irsa-{workload.name}",
                name=irsa_role_name(self.stage.name, self.role, workload.name),
                issuer=self.issuer,
                namespace=NAMESPACE,
                service_account=workload.name,
                statements=workload_statements(self.policy_scope, workload),
            )
        for name, (namespace, account) in CONTROLLERS.items():
            managed = (
                (self._managed_policy(MANAGED_CONTROLLER_POLICIES[name]),)
                if name in MANAGED_CONTROLLER_POLICIES
                else ()
            )
            self.irsa_roles[name] = IrsaRole(
                self,
                f"irsa-{name}",
                name=f"{self.prefix}-{name}",
                issuer=self.issuer,
                namespace=namespace,
                service_account=account,
                statements=controller_statements(self.policy_scope, name),
                managed_policy_arns=managed,
            )

    def _addon(self, name: str, depends_on: list[EksNodeGroup] | None = None) -> EksAddon:
        role = ADDON_ROLES.get(name)
        return EksAddon(
            self,
            f"addon-{name}",
            cluster_name=self.cluster.name,
            addon_name=name,
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            service_account_role_arn=self.irsa_roles[role].arn if role else None,
            depends_on=depends_on,
        )

    # ------------------------------------------------------------------------------------ load balancer
    @property
    def origin_domain(self) -> str:
        """The ALB's own name: CloudFront's origin and the Route 53 health check target."""
        return f"origin-{self.region.region}.{self.stage.domain}"

    @property
    def api_domain(self) -> str:
        return f"api.{self.stage.domain}"

    def _certificate(self) -> str:
        certificate = AcmCertificate(
            self,
            "alb-certificate",
            domain_name=self.origin_domain,
            subject_alternative_names=[self.api_domain],
            validation_method="DNS",
            key_algorithm="EC_prime256v1",
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        options = TerraformIterator.from_complex_list(certificate.domain_validation_options, "domain_name")
        records = Route53Record(
            self,
            "alb-certificate-validation",
            for_each=options,
            zone_id=self.zone.zone_id,
            name=options.get_string("resource_record_name"),
            type=options.get_string("resource_record_type"),
            records=[options.get_string("resource_record_value")],
            ttl=300,
            allow_overwrite=True,  # both regions' certificates validate api.<domain> with the same record
        )
        validated = AcmCertificateValidation(
            self, "alb-certificate-validated", certificate_arn=certificate.arn, depends_on=[records]
        )
        return validated.certificate_arn

    def _health_check_security_group(self) -> SecurityGroup:
        """Route 53 health checkers may reach the ALB on 443. A group of its own: a prefix-list rule counts as
        the list's maximum size against the 60-rule quota of a group, and the CloudFront list in the network
        layer's ALB group already weighs about 55, the health checkers' list 25."""
        group = SecurityGroup(
            self,
            "alb-health-checks-sg",
            name=f"{self.prefix}-alb-health-checks",
            description="ALB: HTTPS from Route 53 health checkers (GET /readyz only reaches a pod)",
            vpc_id=self.network.vpc.id,
            tags={"Name": f"{self.prefix}-alb-health-checks"},
        )
        health_checkers = DataAwsEc2ManagedPrefixList(
            self, "route53-health-checkers", name=f"com.amazonaws.{self.region.region}.route53-healthchecks"
        )
        VpcSecurityGroupIngressRule(
            self,
            "alb-https-from-route53-health-checks",
            security_group_id=group.id,
            ip_protocol="tcp",
            from_port=HTTPS_PORT,
            to_port=HTTPS_PORT,
            prefix_list_id=health_checkers.id,
            description="alb-https-from-route53-health-checks",
        )
        return group

    def _load_balancer(self, primary: ComputeStack | None) -> None:
        prod = self.stage.name == "prod"
        self.alb = Lb(
            self,
            "alb",
            name=f"{self.prefix}-web",
            internal=False,
            load_balancer_type="application",
            security_groups=[self.network.alb_sg.id, self._health_check_security_group().id],
            subnets=self.network.subnet_ids("public"),
            drop_invalid_header_fields=True,
            desync_mitigation_mode="strictest",
            enable_deletion_protection=prod or self.stage.sizes.deletion_protection,
            idle_timeout=60,
            access_logs=LbAccessLogs(
                bucket=self.data.buckets["logs"].name, prefix=f"alb/{self.region.region}", enabled=True
            ),
        )
        self.origin_verify_value = (
            Fn.sha256(Fn.join("/", [self.alb.arn, self.cluster.arn]))
            if primary is None
            else primary.origin_verify_value
        )
        self.https_listener = LbListener(
            self,
            "https",
            load_balancer_arn=self.alb.arn,
            port=HTTPS_PORT,
            protocol="HTTPS",
            ssl_policy=ALB_SSL_POLICY,
            certificate_arn=self._certificate(),
            default_action=[
                LbListenerDefaultAction(
                    type="fixed-response",
                    fixed_response=LbListenerDefaultActionFixedResponse(
                        content_type="application/problem+json",
                        status_code="403",
                        message_body='{"title":"Forbidden","status":403}',
                    ),
                )
            ],
        )
        self.http_listener = LbListener(
            self,
            "http-redirect",
            load_balancer_arn=self.alb.arn,
            port=80,
            protocol="HTTP",
            default_action=[
                LbListenerDefaultAction(
                    type="redirect",
                    redirect=LbListenerDefaultActionRedirect(protocol="HTTPS", port="443", status_code="HTTP_301"),
                )
            ],
        )
        self.web_services: dict[str, WebServiceTarget] = {}
        for index, service in enumerate(WEB_SERVICES):
            self.web_services[service.name] = WebServiceTarget(
                self,
                f"web-{service.name}",
                name=f"{self.prefix}-{service.name}",
                service=service.name,
                vpc_id=self.network.vpc.id,
                listener_arn=self.https_listener.arn,
                priority=100 + 10 * index,
                required_header=(ORIGIN_VERIFY_HEADER, self.origin_verify_value),
            )
        self.target_groups: dict[str, LbTargetGroup] = {n: w.target_group for n, w in self.web_services.items()}
        # Route 53 health checkers call /readyz without the origin header; that path reveals readiness only.
        forward_rule(
            self,
            "region-readiness",
            listener_arn=self.https_listener.arn,
            priority=10,
            target_group_arn=self.target_groups[REGION_HEALTH_SERVICE].arn,
            paths=[READINESS_PATH],
            required_header=None,
        )
        Route53Record(
            self,
            "origin-record",
            zone_id=self.zone.zone_id,
            name=self.origin_domain,
            type="A",
            alias=Route53RecordAlias(name=self.alb.dns_name, zone_id=self.alb.zone_id, evaluate_target_health=True),
        )
        self.web_acl = ManagedRulesWebAcl(
            self,
            "waf",
            name=f"{self.prefix}-alb",
            waf_scope="REGIONAL",
            rate_limit=REGIONAL_RATE_LIMIT,
            log_retention_days=self.log_retention,
            logs_kms_key_arn=self.logs_key.arn,
        )
        Wafv2WebAclAssociation(self, "waf-alb", resource_arn=self.alb.arn, web_acl_arn=self.web_acl.arn)

    # ------------------------------------------------------------------------------------------- images
    def _registry(self) -> None:
        """Repositories live in the primary region and replicate to the secondary, where a creation
        template gives the replicas the same KMS encryption and immutable tags."""
        self.ecr_key = EncryptionKey(
            self,
            "ecr-key",
            alias=f"{self.prefix}-ecr",
            description="ECR image encryption",
            account_root_arn=self.account_root_arn,
            account_id=self.caller.account_id,
        )
        repository_prefix = f"peakshop/{self.stage.name}"
        self.repositories: dict[str, EcrRepository] = {}
        if self.role == "primary":
            for workload in WORKLOADS:
                self.repositories[workload.name] = EcrRepository(
                    self,
                    f"ecr-{workload.name}",
                    name=f"{repository_prefix}/{workload.name}",
                    image_tag_mutability="IMMUTABLE",
                    image_scanning_configuration=EcrRepositoryImageScanningConfiguration(scan_on_push=True),
                    encryption_configuration=[
                        EcrRepositoryEncryptionConfiguration(encryption_type="KMS", kms_key=self.ecr_key.arn)
                    ],
                    force_delete=self.stage.name == "dev",
                )
            EcrReplicationConfiguration(
                self,
                "ecr-replication",
                replication_configuration=EcrReplicationConfigurationReplicationConfiguration(
                    rule=[
                        EcrReplicationConfigurationReplicationConfigurationRule(
                            destination=[
                                EcrReplicationConfigurationReplicationConfigurationRuleDestination(
                                    region=self.stage.secondary.region, registry_id=self.caller.account_id
                                )
                            ],
                            repository_filter=[
                                EcrReplicationConfigurationReplicationConfigurationRuleRepositoryFilter(
                                    filter=repository_prefix, filter_type="PREFIX_MATCH"
                                )
                            ],
                        )
                    ]
                ),
            )
            return
        template_role = IamRole(
            self,
            "ecr-template-role",
            name=f"{self.prefix}-ecr-replica-template",
            assume_role_policy=assume_role_policy(self, "ecr-template-trust", "ecr.amazonaws.com").json,
        )
        template_permissions = policy_document(
            self,
            "ecr-template-permissions",
            [
                Statement(
                    actions=["kms:CreateGrant", "kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt"],
                    resources=[self.ecr_key.arn],
                )
            ],
        )
        IamRolePolicy(self, "ecr-template-policy", role=template_role.id, policy=template_permissions.json)
        EcrRepositoryCreationTemplate(
            self,
            "ecr-replica-template",
            prefix=repository_prefix,
            applied_for=["REPLICATION"],
            description="Replicas of the primary region's Peakshop images",
            image_tag_mutability="IMMUTABLE",
            custom_role_arn=template_role.arn,
            encryption_configuration=[
                EcrRepositoryCreationTemplateEncryptionConfiguration(encryption_type="KMS", kms_key=self.ecr_key.arn)
            ],
        )
