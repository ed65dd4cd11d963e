"""The IAM statements behind the compute layer's IRSA roles: each workload reaches only its own queues, bucket
prefixes, secrets, database user and the KMS keys behind them; each controller gets the minimum its job needs.
docs/irsa.md shows the result (`make irsa-doc`)."""

from __future__ import annotations

from dataclasses import dataclass

from peakshop_constructs.policy import Statement
from stacks.data import DataStack
from stacks.workloads import SECRETS_PREFIX, Workload, secret_name

# Kubernetes-side controllers with IRSA roles: name -> (namespace, service account).
CONTROLLERS: dict[str, tuple[str, str]] = {
    "aws-load-balancer-controller": ("kube-system", "aws-load-balancer-controller"),
    "cluster-autoscaler": ("kube-system", "cluster-autoscaler"),
    "keda": ("keda", "keda-operator"),
    "external-secrets": ("external-secrets", "external-secrets"),
    "ebs-csi": ("kube-system", "ebs-csi-controller-sa"),
    "vpc-cni": ("kube-system", "aws-node"),
}


@dataclass(frozen=True)
class PolicyScope:
    """Where the roles live: ARNs and names are built from these."""

    arn_prefix: str  # arn:<partition>
    region: str
    account: str
    stage: str
    prefix: str  # peakshop-<stage>-<p|s>
    cluster_name: str
    data: DataStack


def _secret_arn(scope: PolicyScope, name: str) -> str:
    region, account = scope.region, scope.account
    # Secrets Manager appends a 6-character suffix to every secret ARN.
    return f"{scope.arn_prefix}:secretsmanager:{region}:{account}:secret:{secret_name(scope.stage, name)}-??????"


def _via(scope: PolicyScope, service: str) -> tuple[str, str, list[str]]:
    return ("StringEquals", "kms:ViaService", [f"{service}.{scope.region}.amazonaws.com"])


def workload_statements(scope: PolicyScope, workload: Workload) -> list[Statement]:
    """Only this workload's queues, bucket prefixes, secrets, database user and the keys behind them."""
    data = scope.data
    statements: list[Statement] = []
    if workload.consumes:
        statements.append(
            Statement(
                sid="ConsumeOwnQueues",
                actions=[
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:ChangeMessageVisibility",
                    "sqs:GetQueueAttributes",
                    "sqs:GetQueueUrl",
                ],
                resources=[data.queues[q].queue.arn for q in workload.consumes],
            )
        )
    if workload.produces:
        statements.append(
            Statement(
                sid="SendToOwnQueues",
                actions=["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
                resources=[data.queues[q].queue.arn for q in workload.produces],
            )
        )
    if workload.consumes or workload.produces:
        statements.append(
            Statement(
                sid="QueueEncryption",
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[data.keys["sqs"].arn],
                conditions=[_via(scope, "sqs")],
            )
        )
    for bucket, prefixes in workload.bucket_prefixes.items():
        arn = data.buckets[bucket].arn
        statements += [
            Statement(
                sid=f"ObjectsUnderOwnPrefixes{bucket.title()}",
                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                resources=[f"{arn}/{prefix}*" for prefix in prefixes],
            ),
            Statement(
                sid=f"ListOwnPrefixes{bucket.title()}",
                actions=["s3:ListBucket"],
                resources=[arn],
                conditions=[("StringLike", "s3:prefix", [f"{prefix}*" for prefix in prefixes])],
            ),
        ]
    if workload.bucket_prefixes:
        statements.append(
            Statement(
                sid="BucketEncryption",
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[data.keys["s3"].arn],
                conditions=[_via(scope, "s3")],
            )
        )
    if workload.secrets:
        statements += [
            Statement(
                sid="ReadOwnSecrets",
                actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                resources=[_secret_arn(scope, s) for s in workload.secrets],
            ),
            Statement(
                sid="SecretEncryption",
                actions=["kms:Decrypt"],
                resources=[data.keys["secrets"].arn],
                conditions=[_via(scope, "secretsmanager")],
            ),
        ]
    if workload.redis:
        statements.append(
            Statement(
                sid="ConnectToRedisAsAppUser",
                actions=["elasticache:Connect"],
                resources=[data.redis.arn, data.cache_app_user.arn],
            )
        )
    return statements


def controller_statements(scope: PolicyScope, name: str) -> list[Statement]:
    region, account = scope.region, scope.account
    if name == "aws-load-balancer-controller":
        # TargetGroupBinding only: Terraform owns the ALB, listeners and target groups; the controller
        # registers pod IPs into our target groups and nothing else (security group rules stay in Terraform).
        return [
            Statement(
                sid="DescribeOnly",  # these Describe calls support no resource-level scoping
                actions=[
                    "elasticloadbalancing:DescribeTargetGroups",
                    "elasticloadbalancing:DescribeTargetHealth",
                    "elasticloadbalancing:DescribeLoadBalancers",
                    "elasticloadbalancing:DescribeListeners",
                    "elasticloadbalancing:DescribeTags",
                    "ec2:DescribeInstances",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeVpcs",
                ],
                resources=["*"],
            ),
            Statement(
                sid="RegisterPodsInOwnTargetGroups",
                actions=["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
                resources=[f"{scope.arn_prefix}:elasticloadbalancing:{region}:{account}:targetgroup/{scope.prefix}-*"],
            ),
        ]
    if name == "cluster-autoscaler":
        return [
            Statement(
                sid="DescribeOnly",
                actions=[
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeLaunchConfigurations",
                    "autoscaling:DescribeScalingActivities",
                    "autoscaling:DescribeTags",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplateVersions",
                    "ec2:GetInstanceTypesFromInstanceRequirements",
                ],
                resources=["*"],
            ),
            Statement(
                sid="ScaleOwnNodeGroups",
                actions=["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
                resources=[f"{scope.arn_prefix}:autoscaling:{region}:{account}:autoScalingGroup:*"],
                conditions=[
                    ("StringEquals", f"aws:ResourceTag/k8s.io/cluster-autoscaler/{scope.cluster_name}", ["owned"])
                ],
            ),
            Statement(
                sid="ReadOwnNodeGroups",
                actions=["eks:DescribeNodegroup"],
                resources=[f"{scope.arn_prefix}:eks:{region}:{account}:nodegroup/{scope.cluster_name}/*"],
            ),
        ]
    if name == "keda":
        # Queue depth for ScaledObjects; reading attributes needs no KMS access.
        return [
            Statement(
                sid="ReadQueueDepth",
                actions=["sqs:GetQueueAttributes"],
                resources=[q.queue.arn for q in scope.data.queues.values()],
            )
        ]
    if name == "external-secrets":
        return [
            Statement(
                sid="ReadStageSecrets",
                actions=[
                    "secretsmanager:GetSecretValue",
                    "secretsmanager:DescribeSecret",
                    "secretsmanager:ListSecretVersionIds",
                ],
                resources=[
                    f"{scope.arn_prefix}:secretsmanager:{region}:{account}:secret:{SECRETS_PREFIX}/{scope.stage}/*"
                ],
            ),
            Statement(
                sid="SecretEncryption",
                actions=["kms:Decrypt"],
                resources=[scope.data.keys["secrets"].arn],
                conditions=[_via(scope, "secretsmanager")],
            ),
        ]
    return []  # ebs-csi, vpc-cni: the AWS managed policy only
