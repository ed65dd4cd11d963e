"""AWS FIS experiment templates that ops run as drills in the primary region, each stopped at once by the
customer-impact composite alarm, with one least-privilege role:

- database-failover: reboot the RDS writer with forced failover to its standby (Multi-AZ stages; a plain
  reboot where the writer is single-AZ),
- pod-delete: delete half of the catalog pods (the EKS action; FIS signs in as the Kubernetes service
  account FIS_SERVICE_ACCOUNT, which the chart binds to a Role allowed to delete pods in the namespace),
- az-app-nodes: stop the app node group's instances in one AZ for ten minutes (FIS starts them again).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.fis_experiment_template import (
    FisExperimentTemplate,
    FisExperimentTemplateAction,
    FisExperimentTemplateActionParameter,
    FisExperimentTemplateActionTarget,
    FisExperimentTemplateStopCondition,
    FisExperimentTemplateTarget,
    FisExperimentTemplateTargetFilter,
    FisExperimentTemplateTargetResourceTag,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from peakshop_constructs.policy import Statement, assume_role_policy, policy_document
from stacks.workloads import NAMESPACE

FIS_SERVICE_ACCOUNT = "fis-experiments"
POD_DELETE_WORKLOAD = "catalog"
NODE_STOP_DURATION = "PT10M"


@dataclass(frozen=True)
class DrillSettings:
    prefix: str
    partition: str
    region: str
    account_id: str
    stop_alarm_arn: str
    db_arn: str
    db_multi_az: bool
    cluster_name: str
    cluster_arn: str
    app_node_group: str
    drill_az: str


class Drills(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: DrillSettings) -> None:
        super().__init__(scope, construct_id)
        s = settings
        instances = f"arn:{s.partition}:ec2:{s.region}:{s.account_id}:instance/*"
        node_group_tag = [("StringEquals", "aws:ResourceTag/eks:nodegroup-name", [s.app_node_group])]
        self.role = IamRole(
            self,
            "role",
            name=f"{s.prefix}-fis",
            assume_role_policy=assume_role_policy(self, "trust", "fis.amazonaws.com").json,
        )
        permissions = [
            Statement(
                sid="RebootWriter", actions=["rds:RebootDBInstance", "rds:DescribeDBInstances"], resources=[s.db_arn]
            ),
            Statement(
                sid="StopAppNodes",
                actions=["ec2:StopInstances", "ec2:StartInstances"],
                resources=[instances],
                conditions=node_group_tag,
            ),
            # FIS resolves targets with Describe calls, which have no resource-level permissions.
            Statement(sid="FindInstances", actions=["ec2:DescribeInstances"], resources=["*"]),
            Statement(sid="FindCluster", actions=["eks:DescribeCluster"], resources=[s.cluster_arn]),
        ]
        IamRolePolicy(self, "policy", role=self.role.id, policy=policy_document(self, "permissions", permissions).json)
        stop = [FisExperimentTemplateStopCondition(source="aws:cloudwatch:alarm", value=s.stop_alarm_arn)]
        self.templates = {
            "database-failover": self._template(
                "database-failover",
                "Reboot the database writer with forced failover to its standby",
                stop,
                action_id="aws:rds:reboot-db-instances",
                parameters={"forceFailover": "true" if s.db_multi_az else "false"},
                target=FisExperimentTemplateTarget(
                    name="Writer", resource_type="aws:rds:db", selection_mode="ALL", resource_arns=[s.db_arn]
                ),
                target_key="DBInstances",
            ),
            "pod-delete": self._template(
                "pod-delete",
                f"Delete half of the {POD_DELETE_WORKLOAD} pods",
                stop,
                action_id="aws:eks:pod-delete",
                parameters={"kubernetesServiceAccount": FIS_SERVICE_ACCOUNT, "gracePeriodSeconds": "30"},
                target=FisExperimentTemplateTarget(
                    name="Pods",
                    resource_type="aws:eks:pod",
                    selection_mode="PERCENT(50)",
                    parameters={
                        "clusterIdentifier": s.cluster_name,
                        "namespace": NAMESPACE,
                        "selectorType": "labelSelector",
                        "selectorValue": f"app.kubernetes.io/name={POD_DELETE_WORKLOAD}",
                    },
                ),
                target_key="Pods",
            ),
            "az-app-nodes": self._template(
                "az-app-nodes",
                f"Stop the app node group's instances in {s.drill_az} for {NODE_STOP_DURATION}",
                stop,
                action_id="aws:ec2:stop-instances",
                parameters={"startInstancesAfterDuration": NODE_STOP_DURATION},
                target=FisExperimentTemplateTarget(
                    name="AppNodesInOneAz",
                    resource_type="aws:ec2:instance",
                    selection_mode="ALL",
                    resource_tag=[
                        FisExperimentTemplateTargetResourceTag(key="eks:nodegroup-name", value=s.app_node_group)
                    ],
                    filter=[
                        FisExperimentTemplateTargetFilter(path="Placement.AvailabilityZone", values=[s.drill_az]),
                        FisExperimentTemplateTargetFilter(path="State.Name", values=["running"]),
                    ],
                ),
                target_key="Instances",
            ),
        }

    def _template(
        self,
        name: str,
        description: str,
        stop: list[FisExperimentTemplateStopCondition],
        *,
        action_id: str,
        parameters: dict[str, str],
        target: FisExperimentTemplateTarget,
        target_key: str,
    ) -> FisExperimentTemplate:
        return FisExperimentTemplate(
            self,
            name,
            description=description,
            role_arn=self.role.arn,
            stop_condition=stop,
            target=[target],
            action=[
                FisExperimentTemplateAction(
                    name=name,
                    action_id=action_id,
                    parameter=[FisExperimentTemplateActionParameter(key=k, value=v) for k, v in parameters.items()],
                    target=FisExperimentTemplateActionTarget(key=target_key, value=target.name),
                )
            ],
            tags={"Name": name},
        )
