"""A WAFv2 web ACL with the AWS managed rule groups Peakshop relies on, a per-IP rate limit and logging of
what a rule acted on to an encrypted CloudWatch log group.

Rules are given as `rule_json` (the WAF API's own JSON): the typed `rule` blocks cannot nest deep enough for
some statements, and the rules are literals (no Terraform references), so the JSON renders identically in
cdk.tf.json and HCL."""

from __future__ import annotations

import json
from typing import Literal

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.wafv2_web_acl import (
    Wafv2WebAcl,
    Wafv2WebAclDefaultAction,
    Wafv2WebAclDefaultActionAllow,
    Wafv2WebAclVisibilityConfig,
)
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import (
    Wafv2WebAclLoggingConfiguration,
    Wafv2WebAclLoggingConfigurationLoggingFilter,
    Wafv2WebAclLoggingConfigurationLoggingFilterFilter,
    Wafv2WebAclLoggingConfigurationLoggingFilterFilterCondition,
    Wafv2WebAclLoggingConfigurationLoggingFilterFilterConditionActionCondition,
    Wafv2WebAclLoggingConfigurationRedactedFields,
    Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader,
)
from constructs import Construct

WafScope = Literal["REGIONAL", "CLOUDFRONT"]

# (rule name, managed rule group) in evaluation order after the rate limit.
MANAGED_RULE_GROUPS: tuple[tuple[str, str], ...] = (
    ("aws-ip-reputation", "AWSManagedRulesAmazonIpReputationList"),
    ("aws-anonymous-ip", "AWSManagedRulesAnonymousIpList"),
    ("aws-common", "AWSManagedRulesCommonRuleSet"),
    ("aws-known-bad-inputs", "AWSManagedRulesKnownBadInputsRuleSet"),
    ("aws-sqli", "AWSManagedRulesSQLiRuleSet"),
)
RATE_RULE = "rate-per-ip"
RATE_WINDOW_S = 300
# Headers never written to WAF logs: they carry credentials (PCI DSS 3.3 / 10.3).
REDACTED_HEADERS = ("authorization", "cookie")
# What the WAF log keeps: requests a rule acted on. Allowed requests are dropped from it because the CloudFront
# and ALB access logs already record every request (PCI DSS 10.2 stays covered); this cuts the WAF log volume
# (priced per GB ingested) to the share of traffic a rule blocks, challenges or counts.
LOGGED_ACTIONS = ("BLOCK", "COUNT", "CAPTCHA", "CHALLENGE", "EXCLUDED_AS_COUNT")


def _visibility(metric: str) -> dict[str, object]:
    return {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": metric}


def web_acl_rules(name: str, scope: WafScope, rate_limit: int) -> list[dict[str, object]]:
    """The rate rule first (cheapest, stops floods before the managed groups run), then the managed groups.

    Behind CloudFront the ALB sees CloudFront's addresses, so the REGIONAL ACL keys the rate limit on the
    client address CloudFront puts in X-Forwarded-For, and counts (does not block) the hosting-provider list,
    which would otherwise match CloudFront itself. The CLOUDFRONT ACL sees the real client and enforces both."""
    regional = scope == "REGIONAL"
    rate: dict[str, object] = {"Limit": rate_limit, "EvaluationWindowSec": RATE_WINDOW_S}
    if regional:
        rate |= {
            "AggregateKeyType": "FORWARDED_IP",
            "ForwardedIPConfig": {"HeaderName": "X-Forwarded-For", "FallbackBehavior": "MATCH"},
        }
    else:
        rate["AggregateKeyType"] = "IP"
    rules: list[dict[str, object]] = [
        {
            "Name": RATE_RULE,
            "Priority": 0,
            "Action": {"Block": {}},
            "Statement": {"RateBasedStatement": rate},
            "VisibilityConfig": _visibility(f"{name}-{RATE_RULE}"),
        }
    ]
    for priority, (rule_name, group) in enumerate(MANAGED_RULE_GROUPS, start=1):
        statement: dict[str, object] = {"VendorName": "AWS", "Name": group}
        if regional and group == "AWSManagedRulesAnonymousIpList":
            statement["RuleActionOverrides"] = [{"Name": "HostingProviderIPList", "ActionToUse": {"Count": {}}}]
        rules.append(
            {
                "Name": rule_name,
                "Priority": priority,
                "OverrideAction": {"None": {}},
                "Statement": {"ManagedRuleGroupStatement": statement},
                "VisibilityConfig": _visibility(f"{name}-{rule_name}"),
            }
        )
    return rules


class ManagedRulesWebAcl(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        waf_scope: WafScope,
        rate_limit: int,
        log_retention_days: int,
        logs_kms_key_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.acl = Wafv2WebAcl(
            self,
            "acl",
            name=name,
            description=f"Peakshop {waf_scope.lower()} protection",
            scope=waf_scope,
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),
            rule_json=json.dumps(web_acl_rules(name, waf_scope, rate_limit), separators=(",", ":")),
            visibility_config=Wafv2WebAclVisibilityConfig(
                cloudwatch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
            ),
        )
        # WAF only delivers to log groups whose name starts with `aws-waf-logs-`.
        self.log_group = CloudwatchLogGroup(
            self,
            "logs",
            name=f"aws-waf-logs-{name}",
            retention_in_days=log_retention_days,
            kms_key_id=logs_kms_key_arn,
        )
        Wafv2WebAclLoggingConfiguration(
            self,
            "logging",
            resource_arn=self.acl.arn,
            log_destination_configs=[self.log_group.arn],
            redacted_fields=[
                Wafv2WebAclLoggingConfigurationRedactedFields(
                    single_header=Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader(name=header)
                )
                for header in REDACTED_HEADERS
            ],
            logging_filter=Wafv2WebAclLoggingConfigurationLoggingFilter(
                default_behavior="DROP",
                filter=[
                    Wafv2WebAclLoggingConfigurationLoggingFilterFilter(
                        behavior="KEEP",
                        requirement="MEETS_ANY",
                        condition=[
                            Wafv2WebAclLoggingConfigurationLoggingFilterFilterCondition(
                                action_condition=Wafv2WebAclLoggingConfigurationLoggingFilterFilterConditionActionCondition(
                                    action=action
                                )
                            )
                            for action in LOGGED_ACTIONS
                        ],
                    )
                ],
            ),
        )

    @property
    def arn(self) -> str:
        return self.acl.arn
