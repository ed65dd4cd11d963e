"""Properties of the compute layer in every stage and both regions: EKS, node groups, IRSA, ALB, ECR."""

from __future__ import annotations

import json
import re

import pytest

from peakshop_constructs.waf import web_acl_rules
from stacks.compute import ORIGIN_VERIFY_HEADER, ami_type
from stacks.config import ROLES, STAGE_NAMES
from stacks.irsa_doc import DOC_PATH as IRSA_DOC
from stacks.irsa_doc import render as render_irsa_doc
from stacks.workloads import (
    DEREGISTRATION_DELAY_S,
    PRESTOP_SLEEP_S,
    READINESS_PATH,
    REGION_HEALTH_SERVICE,
    TERMINATION_GRACE_PERIOD_S,
    WEB_SERVICES,
    WORKLOADS,
    irsa_role_name,
)
from tests.infra.synthesized import Doc, Platform, data_sources, ref_name, resources

COMPUTE = [(stage, role) for stage in STAGE_NAMES for role in ROLES]


def compute_doc(platform: Platform, stage: str, role: str) -> Doc:
    return platform.docs[f"{stage}-{role}-compute"]


def role_policies(doc: Doc) -> dict[str, list[dict]]:
    """IAM role name -> the statements of its inline policies (read back through the policy documents)."""
    roles = resources(doc, "aws_iam_role")
    documents = data_sources(doc, "aws_iam_policy_document")
    policies: dict[str, list[dict]] = {role["name"]: [] for role in roles.values()}
    for policy in resources(doc, "aws_iam_role_policy").values():
        role = roles[ref_name(policy["role"])]
        policies[role["name"]] += documents[ref_name(policy["policy"])]["statement"]
    return policies


def trust_statement(doc: Doc, role_name: str) -> dict:
    role = next(r for r in resources(doc, "aws_iam_role").values() if r["name"] == role_name)
    (statement,) = data_sources(doc, "aws_iam_policy_document")[ref_name(role["assume_role_policy"])]["statement"]
    return statement


@pytest.mark.parametrize(("stage", "role"), COMPUTE)
def test_cluster_is_private_encrypted_logged_and_api_authenticated(platform: Platform, stage: str, role: str) -> None:
    doc = compute_doc(platform, stage, role)
    (cluster,) = resources(doc, "aws_eks_cluster").values()
    vpc = cluster["vpc_config"]
    assert vpc["endpoint_private_access"] is True
    assert len(vpc["subnet_ids"]) >= 3 and all("subnetprivate" in s for s in vpc["subnet_ids"])
    if vpc["endpoint_public_access"]:
        assert vpc["public_access_cidrs"] and "0.0.0.0/0" not in vpc["public_access_cidrs"]
    (encryption,) = [cluster["encryption_config"]]
    assert encryption["resources"] == ["secrets"] and encryption["provider"]["key_arn"].startswith("${aws_kms_key.")
    assert set(cluster["enabled_cluster_log_types"]) == {
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
    }
    assert cluster["access_config"]["authentication_mode"] == "API"
    assert cluster["version"] == platform.config.stages[stage].eks_version
    admins = {e["principal_arn"].rsplit("/", 1)[-1] for e in resources(doc, "aws_eks_access_entry").values()}
    assert admins == set(platform.config.stages[stage].eks_admin_roles)
    assert len(resources(doc, "aws_iam_openid_connect_provider")) == 1
    addons = {a["addon_name"]: a for a in resources(doc, "aws_eks_addon").values()}
    assert set(addons) >= {"vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver", "eks-pod-identity-agent"}
    # The add-ons that call AWS use their own IRSA roles; nodes do not carry the CNI policy.
    assert "aws_iam_role.irsa-vpc-cni_role" in addons["vpc-cni"]["service_account_role_arn"]
    assert "aws_iam_role.irsa-ebs-csi_role" in addons["aws-ebs-csi-driver"]["service_account_role_arn"]
    node_policies = [
        a["policy_arn"] for k, a in resources(doc, "aws_iam_role_policy_attachment").items() if k.startswith("node-")
    ]
    assert node_policies and not any(p.endswith("/AmazonEKS_CNI_Policy") for p in node_policies)
    assert all("aws_eks_addon.addon-vpc-cni" in g["depends_on"] for g in resources(doc, "aws_eks_node_group").values())
    # The cluster role may use the Secrets key, which is what envelope encryption needs.
    cluster_role = ref_name(cluster["role_arn"])
    key_statements = [
        statement
        for policy in resources(doc, "aws_iam_role_policy").values()
        if ref_name(policy["role"]) == cluster_role
        for statement in data_sources(doc, "aws_iam_policy_document")[ref_name(policy["policy"])]["statement"]
    ]
    (statement,) = key_statements
    assert {"kms:Encrypt", "kms:Decrypt", "kms:CreateGrant"} <= set(statement["actions"])
    assert statement["resources"] == [encryption["provider"]["key_arn"]]


@pytest.mark.parametrize(("stage", "role"), COMPUTE)
def test_node_groups_span_three_private_subnets_with_configured_sizes(
    platform: Platform, stage: str, role: str
) -> None:
    sizes = platform.config.stages[stage].sizes
    expected = {
        "system": sizes.system_nodes,
        "app": sizes.app_nodes if role == "primary" else sizes.secondary_app_nodes,
    }
    groups = {
        g["labels"]["peakshop/node-group"]: g
        for g in resources(compute_doc(platform, stage, role), "aws_eks_node_group").values()
    }
    assert set(groups) == set(expected)
    for name, group in groups.items():
        size, scaling = expected[name], group["scaling_config"]
        assert len(set(group["subnet_ids"])) >= 3 and all("subnetprivate" in s for s in group["subnet_ids"])
        assert scaling["min_size"] < scaling["max_size"]
        assert (scaling["min_size"], scaling["desired_size"], scaling["max_size"]) == (
            size.min_size,
            size.desired_size,
            size.max_size,
        )
        assert group["instance_types"] == list(size.instance_types)
        assert group["capacity_type"] == "ON_DEMAND"
    assert groups["app"]["ami_type"] == "AL2023_ARM_64_STANDARD"  # Graviton by default


def test_node_templates_require_imdsv2_and_encrypt_volumes(platform: Platform) -> None:
    for name, doc in platform.layer_docs("compute").items():
        (template,) = resources(doc, "aws_launch_template").values()
        assert template["metadata_options"]["http_tokens"] == "required", name
        assert template["metadata_options"]["http_put_response_hop_limit"] == 1
        assert template["block_device_mappings"][0]["ebs"]["encrypted"] == "true"
        assert any("aws_security_groupapp" in sg for sg in template["vpc_security_group_ids"])


def test_ami_type_follows_the_architecture_and_refuses_a_mix() -> None:
    assert ami_type(("m7g.large", "m6gd.large")) == "AL2023_ARM_64_STANDARD"
    assert ami_type(("m7i.large",)) == "AL2023_x86_64_STANDARD"
    with pytest.raises(ValueError, match="mixes Graviton and x86"):
        ami_type(("m7g.large", "m7i.large"))


@pytest.mark.parametrize(("stage", "role"), COMPUTE)
def test_irsa_roles_have_no_wildcard_actions_and_trust_one_service_account(
    platform: Platform, stage: str, role: str
) -> None:
    doc = compute_doc(platform, stage, role)
    policies = role_policies(doc)
    for workload in WORKLOADS:
        name = irsa_role_name(stage, role, workload.name)
        assert name in policies, name
        statement = trust_statement(doc, name)
        assert statement["actions"] == ["sts:AssumeRoleWithWebIdentity"]
        subjects = [c["values"] for c in statement["condition"] if c["variable"].endswith(":sub")]
        assert subjects == [[f"system:serviceaccount:peakshop:{workload.name}"]]
    for name, statements in policies.items():
        for statement in statements:
            assert statement.get("effect", "Allow") == "Allow"
            for action in statement["actions"]:
                assert "*" not in action, (name, action)


@pytest.mark.parametrize(("stage", "role"), COMPUTE)
def test_each_workload_role_reaches_only_its_own_resources(platform: Platform, stage: str, role: str) -> None:
    policies = role_policies(compute_doc(platform, stage, role))
    for workload in WORKLOADS:
        statements = policies[irsa_role_name(stage, role, workload.name)]
        resources_ = [r for s in statements for r in s["resources"]]
        assert "*" not in resources_, workload.name
        queues = {m.group(1) for r in resources_ if (m := re.search(r"aws_sqs_queuequeue-([a-z]+)_", r))}
        assert queues == set(workload.consumes) | set(workload.produces), workload.name
        objects = [r for r in resources_ if "aws_s3_bucket" in r and "/" in r.split("}", 1)[-1]]
        allowed = {f"{bucket}_bucket_" for bucket in workload.bucket_prefixes}
        for arn in objects:
            assert any(b in arn for b in allowed), (workload.name, arn)
            bucket = re.search(r"aws_s3_bucketbucket-([a-z]+)_", arn).group(1)
            assert any(arn.endswith(f"}}/{p}*") for p in workload.bucket_prefixes[bucket]), (workload.name, arn)
        secrets = {
            m.group(1) for r in resources_ if (m := re.search(rf":secret:peakshop/{stage}/([a-z-]+)-\?{{6}}$", r))
        }
        assert secrets == set(workload.secrets), workload.name
        assert not any(":secret:" in r and r.endswith("/*") for r in resources_), workload.name
        keys = {m.group(1) for r in resources_ if (m := re.search(r"aws_kms_keykey-([a-z0-9]+)_", r))}
        expected_keys = (
            ({"sqs"} if workload.consumes or workload.produces else set())
            | ({"s3"} if workload.bucket_prefixes else set())
            | ({"secrets"} if workload.secrets else set())
        )
        assert keys == expected_keys, workload.name


@pytest.mark.parametrize(("stage", "role"), COMPUTE)
def test_controller_roles_exist_and_mutations_are_scoped(platform: Platform, stage: str, role: str) -> None:
    policies = role_policies(compute_doc(platform, stage, role))
    prefix = f"peakshop-{stage}-{role[0]}"
    for controller in ("aws-load-balancer-controller", "keda", "external-secrets", "cluster-autoscaler"):
        statements = policies[f"{prefix}-{controller}"]
        for statement in statements:
            if statement["resources"] == ["*"]:
                # Only read-only calls that AWS cannot scope to a resource.
                assert all(re.search(r":(Describe|Get)", a) for a in statement["actions"]), (controller, statement)
    lbc = [s for s in policies[f"{prefix}-aws-load-balancer-controller"] if s["resources"] != ["*"]]
    assert lbc and all(r.endswith(f":targetgroup/{prefix}-*") for s in lbc for r in s["resources"])
    keda = policies[f"{prefix}-keda"]
    assert [a for s in keda for a in s["actions"]] == ["sqs:GetQueueAttributes"]


@pytest.mark.parametrize(("stage", "role"), COMPUTE)
def test_alb_has_only_https_forwarding_and_a_redirect(platform: Platform, stage: str, role: str) -> None:
    doc = compute_doc(platform, stage, role)
    (alb,) = resources(doc, "aws_lb").values()
    assert alb["internal"] is False and alb["drop_invalid_header_fields"] is True
    assert alb["access_logs"]["enabled"] is True and "aws_s3_bucketbucket-logs" in alb["access_logs"]["bucket"]
    assert alb["enable_deletion_protection"] is (stage == "prod")
    # Route 53 health checkers get their own group: with the CloudFront prefix list one group exceeds 60 rules.
    network_alb_sg, health_sg = alb["security_groups"]
    assert "aws_security_groupalb" in network_alb_sg and health_sg.startswith("${aws_security_group.")
    (rule,) = resources(doc, "aws_vpc_security_group_ingress_rule").values()
    assert ref_name(rule["security_group_id"]) == ref_name(health_sg) and rule["from_port"] == rule["to_port"] == 443
    assert "route53-health-checkers" in rule["prefix_list_id"]
    listeners = resources(doc, "aws_lb_listener")
    by_protocol = {listener["protocol"]: key for key, listener in listeners.items()}
    assert set(by_protocol) == {"HTTPS", "HTTP"}
    https, http = listeners[by_protocol["HTTPS"]], listeners[by_protocol["HTTP"]]
    assert re.fullmatch(r"ELBSecurityPolicy-TLS13-1-2-.*", https["ssl_policy"])
    assert "aws_acm_certificate_validation" in https["certificate_arn"]
    assert https["default_action"][0]["type"] == "fixed-response"  # nothing unmatched reaches a pod
    assert http["default_action"][0]["type"] == "redirect"
    assert http["default_action"][0]["redirect"]["protocol"] == "HTTPS"
    rules = resources(doc, "aws_lb_listener_rule").values()
    assert all(ref_name(r["listener_arn"]) == by_protocol["HTTPS"] for r in rules)
    paths = {}
    for rule in rules:
        (action,) = rule["action"]
        assert action["type"] == "forward"
        conditions = {k: v for c in rule["condition"] for k, v in c.items()}
        (path,) = conditions["path_pattern"]["values"]
        paths[path] = ref_name(action["target_group_arn"])
        if path != READINESS_PATH:
            header = conditions["http_header"]
            assert header["http_header_name"] == ORIGIN_VERIFY_HEADER and len(header["values"]) == 1
    assert set(paths) == {f"/api/{s.name}/*" for s in WEB_SERVICES} | {READINESS_PATH}
    assert paths[READINESS_PATH] == paths[f"/api/{REGION_HEALTH_SERVICE}/*"]


def test_both_regions_accept_the_same_origin_header(platform: Platform) -> None:
    for stage in STAGE_NAMES:
        values = {}
        for role in ROLES:
            rules = resources(compute_doc(platform, stage, role), "aws_lb_listener_rule").values()
            values[role] = {c["http_header"]["values"][0] for r in rules for c in r["condition"] if "http_header" in c}
        assert len(values["primary"]) == 1 and values["primary"] == {
            '${sha256(join("/", [aws_lb.alb.arn, aws_eks_cluster.cluster.arn]))}'
        }
        (secondary,) = values["secondary"]
        assert f"cross-stack-reference-input-{stage}-primary-compute" in secondary


@pytest.mark.parametrize(("stage", "role"), COMPUTE)
def test_every_target_group_checks_readiness_and_drains_before_pods_die(
    platform: Platform, stage: str, role: str
) -> None:
    groups = resources(compute_doc(platform, stage, role), "aws_lb_target_group")
    assert {g["tags"]["service"] for g in groups.values()} == {s.name for s in WEB_SERVICES}
    for group in groups.values():
        assert group["target_type"] == "ip"
        check = group["health_check"]
        assert check["enabled"] is True and check["path"] == READINESS_PATH and check["matcher"] == "200"
        delay = int(group["deregistration_delay"])
        assert (
            delay == DEREGISTRATION_DELAY_S < TERMINATION_GRACE_PERIOD_S < PRESTOP_SLEEP_S + TERMINATION_GRACE_PERIOD_S
        )


@pytest.mark.parametrize(("stage", "role"), COMPUTE)
def test_regional_waf_is_attached_to_the_alb(platform: Platform, stage: str, role: str) -> None:
    doc = compute_doc(platform, stage, role)
    (acl_key, acl) = next(iter(resources(doc, "aws_wafv2_web_acl").items()))
    assert acl["scope"] == "REGIONAL"
    (association,) = resources(doc, "aws_wafv2_web_acl_association").values()
    assert ref_name(association["web_acl_arn"]) == acl_key and "aws_lb.alb" in association["resource_arn"]
    assert_protective_rules(json.loads(acl["rule_json"]))


def assert_protective_rules(rules: list[dict]) -> None:
    """The managed groups (Log4j is in known-bad-inputs) in force, and a blocking rate limit per client."""
    groups = {r["Statement"]["ManagedRuleGroupStatement"]["Name"] for r in rules if "OverrideAction" in r}
    assert groups == {
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesSQLiRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
        "AWSManagedRulesAnonymousIpList",
    }
    assert all(r["OverrideAction"] == {"None": {}} for r in rules if "OverrideAction" in r)
    (rate,) = [r for r in rules if "RateBasedStatement" in r["Statement"]]
    assert rate["Action"] == {"Block": {}} and rate["Statement"]["RateBasedStatement"]["Limit"] > 0
    assert len({r["Priority"] for r in rules}) == len(rules)


def test_ecr_repositories_are_immutable_scanned_encrypted_and_replicated(platform: Platform) -> None:
    for stage in STAGE_NAMES:
        primary = compute_doc(platform, stage, "primary")
        repositories = resources(primary, "aws_ecr_repository")
        assert {r["name"] for r in repositories.values()} == {f"peakshop/{stage}/{w.name}" for w in WORKLOADS}
        for repository in repositories.values():
            assert repository["image_tag_mutability"] == "IMMUTABLE"
            assert repository["image_scanning_configuration"]["scan_on_push"] is True
            assert repository["encryption_configuration"][0]["encryption_type"] == "KMS"
        (replication,) = resources(primary, "aws_ecr_replication_configuration").values()
        (rule,) = replication["replication_configuration"]["rule"]
        assert rule["destination"][0]["region"] == platform.config.stages[stage].secondary.region
        secondary = compute_doc(platform, stage, "secondary")
        assert not resources(secondary, "aws_ecr_repository")
        (template,) = resources(secondary, "aws_ecr_repository_creation_template").values()
        assert template["applied_for"] == ["REPLICATION"] and template["image_tag_mutability"] == "IMMUTABLE"
        assert template["encryption_configuration"][0]["encryption_type"] == "KMS"


def test_irsa_doc_is_current_and_lists_every_role(platform: Platform) -> None:
    text = render_irsa_doc(platform.docs)
    assert IRSA_DOC.read_text() == text, "docs/irsa.md is stale: run `make irsa-doc` and commit it"
    for role in ROLES:
        for workload in WORKLOADS:
            assert f"| `{irsa_role_name('prod', role, workload.name)}` | `peakshop:{workload.name}` |" in text


def test_regional_acl_limits_the_client_behind_cloudfront_not_cloudfront_itself() -> None:
    regional = {r["Name"]: r for r in web_acl_rules("x", "REGIONAL", 500)}
    edge = {r["Name"]: r for r in web_acl_rules("x", "CLOUDFRONT", 500)}
    assert regional["rate-per-ip"]["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "FORWARDED_IP"
    assert edge["rate-per-ip"]["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
    overrides = regional["aws-anonymous-ip"]["Statement"]["ManagedRuleGroupStatement"]["RuleActionOverrides"]
    assert overrides == [{"Name": "HostingProviderIPList", "ActionToUse": {"Count": {}}}]
    assert "RuleActionOverrides" not in edge["aws-anonymous-ip"]["Statement"]["ManagedRuleGroupStatement"]


@pytest.mark.parametrize(("stage", "role"), COMPUTE)
def test_outputs_give_the_charts_their_target_groups(platform: Platform, stage: str, role: str) -> None:
    outputs = compute_doc(platform, stage, role)["output"]
    arns = outputs["target_group_arns"]["value"]
    assert set(arns) == {s.name for s in WEB_SERVICES}
    assert all(v.startswith("${aws_lb_target_group.web-") and v.endswith(".arn}") for v in arns.values())
    assert ("repository_urls" in outputs) is (role == "primary")
