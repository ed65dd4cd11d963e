"""One web service behind the Terraform-owned ALB: an IP target group (pods are bound into it by the chart's
TargetGroupBinding) and the listener rule that forwards `/api/<service>/*` to it."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.lb_listener_rule import (
    LbListenerRule,
    LbListenerRuleAction,
    LbListenerRuleCondition,
    LbListenerRuleConditionHttpHeader,
    LbListenerRuleConditionPathPattern,
)
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from constructs import Construct

from stacks.workloads import (
    APP_PORT,
    DEREGISTRATION_DELAY_S,
    HEALTH_CHECK_INTERVAL_S,
    HEALTH_CHECK_TIMEOUT_S,
    HEALTHY_THRESHOLD,
    READINESS_PATH,
    UNHEALTHY_THRESHOLD,
)


def forward_rule(
    scope: Construct,
    construct_id: str,
    *,
    listener_arn: str,
    priority: int,
    target_group_arn: str,
    paths: list[str],
    required_header: tuple[str, str] | None,
) -> LbListenerRule:
    """Forward `paths` to a target group; with `required_header` only requests carrying that header value."""
    conditions = [LbListenerRuleCondition(path_pattern=LbListenerRuleConditionPathPattern(values=paths))]
    if required_header is not None:
        header, value = required_header
        conditions.append(
            LbListenerRuleCondition(
                http_header=LbListenerRuleConditionHttpHeader(http_header_name=header, values=[value])
            )
        )
    return LbListenerRule(
        scope,
        construct_id,
        listener_arn=listener_arn,
        priority=priority,
        action=[LbListenerRuleAction(type="forward", target_group_arn=target_group_arn)],
        condition=conditions,
    )


class WebServiceTarget(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        service: str,
        vpc_id: str,
        listener_arn: str,
        priority: int,
        required_header: tuple[str, str] | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.target_group = LbTargetGroup(
            self,
            "target-group",
            name=name,
            port=APP_PORT,
            protocol="HTTP",
            protocol_version="HTTP1",
            target_type="ip",
            vpc_id=vpc_id,
            # Draining ends before the pod's grace period does (stacks/workloads.py), so no request is cut off.
            deregistration_delay=str(DEREGISTRATION_DELAY_S),
            load_balancing_algorithm_type="least_outstanding_requests",
            health_check=LbTargetGroupHealthCheck(
                enabled=True,
                path=READINESS_PATH,
                port="traffic-port",
                protocol="HTTP",
                matcher="200",
                interval=HEALTH_CHECK_INTERVAL_S,
                timeout=HEALTH_CHECK_TIMEOUT_S,
                healthy_threshold=HEALTHY_THRESHOLD,
                unhealthy_threshold=UNHEALTHY_THRESHOLD,
            ),
            tags={"service": service},
        )
        self.rule = forward_rule(
            self,
            "rule",
            listener_arn=listener_arn,
            priority=priority,
            target_group_arn=self.target_group.arn,
            paths=[f"/api/{service}/*"],
            required_header=required_header,
        )
