"""network layer: a three-tier VPC (public / private app / isolated data) over the region's AZs, NAT,
VPC endpoints so that private traffic to AWS APIs stays off the internet, flow logs, and the tiered
security groups (alb -> app -> data)."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_ec2_managed_prefix_list import DataAwsEc2ManagedPrefixList
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from peakshop_constructs.kms import EncryptionKey, logs_statement
from peakshop_constructs.policy import Statement, assume_role_policy, policy_document
from stacks.base import LayerStack
from stacks.config import Role, StageConfig
from stacks.workloads import APP_PORT

MYSQL_PORT = 3306
REDIS_PORT = 6379
HTTPS_PORT = 443
# Interface endpoints for the AWS APIs pods call (queues, image pulls, IRSA). Only in the primary region: at
# $7.30 per endpoint-AZ a month they would cost the warm standby, which carries no traffic, more than the NAT
# processing they save; after failover those calls go out through the standby's per-AZ NAT gateways. No
# CloudWatch Logs endpoint: nothing in the VPC writes logs through the API (AWS services deliver their own).
INTERFACE_ENDPOINTS = ("sqs", "ecr.api", "ecr.dkr", "sts")
TIERS = ("public", "private", "isolated")


class NetworkStack(LayerStack):
    layer = "network"

    def __init__(self, scope: Construct, stage: StageConfig, role: Role) -> None:
        super().__init__(scope, stage, role)
        region = self.region
        cidrs = region.subnet_cidrs()
        self.vpc = Vpc(
            self,
            "vpc",
            cidr_block=region.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": self.prefix},
        )
        # The default security group is left with no rules, so nothing can use it by accident.
        DefaultSecurityGroup(self, "default-sg", vpc_id=self.vpc.id, ingress=[], egress=[])
        self.subnets: dict[str, list[Subnet]] = {tier: [] for tier in TIERS}
        for tier in TIERS:
            for index, (az, cidr) in enumerate(zip(region.azs, cidrs[tier], strict=True)):
                self.subnets[tier].append(
                    Subnet(
                        self,
                        f"{tier}-{index}",
                        vpc_id=self.vpc.id,
                        cidr_block=cidr,
                        availability_zone=az,
                        map_public_ip_on_launch=False,
                        tags={
                            "Name": f"{self.prefix}-{tier}-{az}",
                            "tier": tier,
                            # Let the AWS Load Balancer Controller discover subnets by role.
                            **({"kubernetes.io/role/elb": "1"} if tier == "public" else {}),
                            **({"kubernetes.io/role/internal-elb": "1"} if tier == "private" else {}),
                        },
                    )
                )
        self._routing()
        self._security_groups()
        self._endpoints()
        self._flow_logs()

    # -------------------------------------------------------------------------------------------- routing
    def _routing(self) -> None:
        igw = InternetGateway(self, "igw", vpc_id=self.vpc.id, tags={"Name": self.prefix})
        public_rt = RouteTable(self, "public-rt", vpc_id=self.vpc.id, tags={"Name": f"{self.prefix}-public"})
        Route(
            self, "public-default", route_table_id=public_rt.id, destination_cidr_block="0.0.0.0/0", gateway_id=igw.id
        )
        for index, subnet in enumerate(self.subnets["public"]):
            RouteTableAssociation(self, f"public-rta-{index}", subnet_id=subnet.id, route_table_id=public_rt.id)

        nat_count = len(self.region.azs) if self.stage.sizes.nat_per_az else 1
        self.nat_gateways = []
        for index in range(nat_count):
            eip = Eip(self, f"nat-eip-{index}", domain="vpc", tags={"Name": f"{self.prefix}-nat-{index}"})
            self.nat_gateways.append(
                NatGateway(
                    self,
                    f"nat-{index}",
                    allocation_id=eip.id,
                    subnet_id=self.subnets["public"][index].id,
                    tags={"Name": f"{self.prefix}-nat-{index}"},
                    depends_on=[igw],
                )
            )
        self.private_route_tables: list[RouteTable] = []
        for index, subnet in enumerate(self.subnets["private"]):
            rt = RouteTable(
                self, f"private-rt-{index}", vpc_id=self.vpc.id, tags={"Name": f"{self.prefix}-private-{index}"}
            )
            nat = self.nat_gateways[index % nat_count]
            Route(
                self,
                f"private-default-{index}",
                route_table_id=rt.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nat.id,
            )
            RouteTableAssociation(self, f"private-rta-{index}", subnet_id=subnet.id, route_table_id=rt.id)
            self.private_route_tables.append(rt)
        # Data subnets have no route to the internet at all: only the VPC and the S3 gateway endpoint.
        self.isolated_route_table = RouteTable(
            self, "isolated-rt", vpc_id=self.vpc.id, tags={"Name": f"{self.prefix}-isolated"}
        )
        for index, subnet in enumerate(self.subnets["isolated"]):
            RouteTableAssociation(
                self, f"isolated-rta-{index}", subnet_id=subnet.id, route_table_id=self.isolated_route_table.id
            )

    # -------------------------------------------------------------------------------------------- security
    def _group(self, construct_id: str, description: str) -> SecurityGroup:
        return SecurityGroup(
            self,
            construct_id,
            name=f"{self.prefix}-{construct_id}",
            description=description,
            vpc_id=self.vpc.id,
            tags={"Name": f"{self.prefix}-{construct_id}"},
        )

    def _rule(self, egress: bool, rule_id: str, sg: SecurityGroup, port: int, peer: dict[str, str]) -> None:
        """One TCP port between a security group and a peer (a group, CIDR or prefix list), either direction."""
        rule = VpcSecurityGroupEgressRule if egress else VpcSecurityGroupIngressRule
        rule(
            self,
            rule_id,
            security_group_id=sg.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description=rule_id,
            **peer,
        )

    def _security_groups(self) -> None:
        self.alb_sg = self._group("alb", "Application Load Balancer: HTTPS from CloudFront only")
        self.app_sg = self._group("app", "EKS pods and nodes serving the shop")
        self.data_sg = self._group("data", "RDS MySQL and ElastiCache Redis: reachable from the app tier only")

        # CloudFront is the only client of the ALB; its origin-facing ranges come as a managed prefix list.
        cloudfront = DataAwsEc2ManagedPrefixList(
            self, "cloudfront-prefixes", name="com.amazonaws.global.cloudfront.origin-facing"
        )
        rules: list[tuple[str, SecurityGroup, int, dict[str, str]]] = [
            ("alb-https-from-cloudfront", self.alb_sg, HTTPS_PORT, {"prefix_list_id": cloudfront.id}),
            ("app-from-alb", self.app_sg, APP_PORT, {"referenced_security_group_id": self.alb_sg.id}),
            ("app-from-app", self.app_sg, APP_PORT, {"referenced_security_group_id": self.app_sg.id}),
            ("mysql-from-app", self.data_sg, MYSQL_PORT, {"referenced_security_group_id": self.app_sg.id}),
            ("redis-from-app", self.data_sg, REDIS_PORT, {"referenced_security_group_id": self.app_sg.id}),
        ]
        for rule in rules:
            self._rule(False, *rule)
        egress: list[tuple[str, SecurityGroup, int, dict[str, str]]] = [
            ("alb-to-app", self.alb_sg, APP_PORT, {"referenced_security_group_id": self.app_sg.id}),
            ("app-to-app", self.app_sg, APP_PORT, {"referenced_security_group_id": self.app_sg.id}),
            ("app-to-mysql", self.app_sg, MYSQL_PORT, {"referenced_security_group_id": self.data_sg.id}),
            ("app-to-redis", self.app_sg, REDIS_PORT, {"referenced_security_group_id": self.data_sg.id}),
            # AWS APIs without an endpoint (and payment providers) are reached through NAT over TLS.
            ("app-https-out", self.app_sg, HTTPS_PORT, {"cidr_ipv4": "0.0.0.0/0"}),
        ]
        for rule in egress:
            self._rule(True, *rule)

    # -------------------------------------------------------------------------------------------- endpoints
    def _endpoints(self) -> None:
        region = self.region.region
        VpcEndpoint(
            self,
            "endpoint-s3",
            vpc_id=self.vpc.id,
            service_name=f"com.amazonaws.{region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[rt.id for rt in self.private_route_tables] + [self.isolated_route_table.id],
        )
        if self.role != "primary":
            return
        endpoint_sg = self._group("endpoints", "Interface VPC endpoints: HTTPS from inside the VPC")
        self._rule(False, "endpoints-from-vpc", endpoint_sg, HTTPS_PORT, {"cidr_ipv4": self.region.vpc_cidr})
        for service in INTERFACE_ENDPOINTS:
            VpcEndpoint(
                self,
                f"endpoint-{service.replace('.', '-')}",
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[s.id for s in self.subnets["private"]],
                security_group_ids=[endpoint_sg.id],
            )

    # -------------------------------------------------------------------------------------------- flow logs
    def _flow_logs(self) -> None:
        region = self.region.region
        log_group_name = f"/peakshop/{self.stage.name}/vpc-flow-logs"
        account = self.caller.account_id
        log_group_arn = f"arn:{self.partition.partition}:logs:{region}:{account}:log-group:{log_group_name}"
        self.logs_key = EncryptionKey(
            self,
            "logs-key",
            alias=f"{self.prefix}-logs",
            description="CloudWatch Logs encryption for the network layer",
            account_root_arn=self.account_root_arn,
            account_id=self.caller.account_id,
            service_statements=[logs_statement(region, [log_group_arn])],
        )
        log_group = CloudwatchLogGroup(
            self,
            "flow-log-group",
            name=log_group_name,
            retention_in_days=max(self.stage.sizes.log_retention_days, 365),
            kms_key_id=self.logs_key.arn,
        )
        role = IamRole(
            self,
            "flow-log-role",
            name=f"{self.prefix}-vpc-flow-logs",
            assume_role_policy=assume_role_policy(self, "flow-log-trust", "vpc-flow-logs.amazonaws.com").json,
        )
        permissions = policy_document(
            self,
            "flow-log-permissions",
            [
                Statement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    resources=[log_group.arn, f"{log_group.arn}:*"],
                )
            ],
        )
        IamRolePolicy(self, "flow-log-policy", role=role.id, policy=permissions.json)
        FlowLog(
            self,
            "flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
        )

    # -------------------------------------------------------------------------------------------- outputs
    def subnet_ids(self, tier: str) -> list[str]:
        return [s.id for s in self.subnets[tier]]
