"""Properties of the edge layer in every stage: CloudFront, the WAF ACLs, certificates and Route 53 failover."""

from __future__ import annotations

import json
import re

import pytest

from stacks.compute import ORIGIN_VERIFY_HEADER
from stacks.config import STAGE_NAMES
from stacks.edge import CLOUDFRONT_REGION
from stacks.workloads import READINESS_PATH
from tests.infra.synthesized import Doc, Platform, ref_name, resources
from tests.infra.test_compute import assert_protective_rules


def edge_doc(platform: Platform, stage: str) -> Doc:
    return platform.docs[f"{stage}-primary-edge"]


def only(doc: Doc, resource_type: str) -> tuple[str, dict]:
    (item,) = resources(doc, resource_type).items()
    return item


def provider_region(doc: Doc, alias: str | None) -> str:
    (provider,) = [p for p in doc["provider"]["aws"] if p.get("alias") == alias]
    return provider["region"]


def test_edge_is_one_stack_per_stage_in_the_primary_role(platform: Platform) -> None:
    edges = sorted(name for name in platform.docs if name.endswith("-edge"))
    assert edges == sorted(f"{stage}-primary-edge" for stage in STAGE_NAMES)


@pytest.mark.parametrize("stage", STAGE_NAMES)
def test_distribution_is_https_only_with_modern_tls_http3_compression_and_waf(platform: Platform, stage: str) -> None:
    doc = edge_doc(platform, stage)
    _, distribution = only(doc, "aws_cloudfront_distribution")
    domain = platform.config.stages[stage].domain
    assert distribution["aliases"] == [domain, f"www.{domain}"]
    viewer = distribution["viewer_certificate"]
    assert viewer["minimum_protocol_version"] == "TLSv1.2_2021" and viewer["ssl_support_method"] == "sni-only"
    assert "aws_acm_certificate_validation" in viewer["acm_certificate_arn"]
    assert distribution["http_version"] == "http2and3"
    behaviors = [distribution["default_cache_behavior"], *distribution["ordered_cache_behavior"]]
    for behavior in behaviors:
        assert behavior["viewer_protocol_policy"] in {"https-only", "redirect-to-https"}  # never served over HTTP
        assert behavior["compress"] is True and behavior["cache_policy_id"]
        assert behavior["response_headers_policy_id"]
    (api,) = [b for b in behaviors if b.get("path_pattern") == "/api/*"]
    assert api["viewer_protocol_policy"] == "https-only" and api["target_origin_id"] == "api"
    assert api["origin_request_policy_id"] and "POST" in api["allowed_methods"]
    acl_key, acl = only(doc, "aws_wafv2_web_acl")
    assert ref_name(distribution["web_acl_id"]) == acl_key
    assert acl["scope"] == "CLOUDFRONT"
    assert provider_region(doc, acl["provider"].removeprefix("aws.")) == CLOUDFRONT_REGION
    assert_protective_rules(json.loads(acl["rule_json"]))


@pytest.mark.parametrize("stage", STAGE_NAMES)
def test_bucket_origins_use_origin_access_control(platform: Platform, stage: str) -> None:
    doc = edge_doc(platform, stage)
    _, distribution = only(doc, "aws_cloudfront_distribution")
    oac_key, oac = only(doc, "aws_cloudfront_origin_access_control")
    assert (oac["origin_access_control_origin_type"], oac["signing_behavior"], oac["signing_protocol"]) == (
        "s3",
        "always",
        "sigv4",
    )
    s3 = [o for o in distribution["origin"] if "bucket_regional_domain_name" in o["domain_name"]]
    assert {o["origin_id"] for o in s3} == {"storefront", "media"}
    assert all(ref_name(o["origin_access_control_id"]) == oac_key for o in s3)
    assert all("custom_origin_config" not in o and "s3_origin_config" not in o for o in s3)
    assert distribution["default_cache_behavior"]["target_origin_id"] == "storefront"


@pytest.mark.parametrize("stage", STAGE_NAMES)
def test_api_origin_group_spans_both_regions_and_sends_the_origin_header(platform: Platform, stage: str) -> None:
    config = platform.config.stages[stage]
    doc = edge_doc(platform, stage)
    _, distribution = only(doc, "aws_cloudfront_distribution")
    (group,) = distribution["origin_group"]
    assert [m["origin_id"] for m in group["member"]] == ["api-primary", "api-secondary"]
    assert set(group["failover_criteria"]["status_codes"]) >= {500, 502, 503, 504}
    origins = {o["origin_id"]: o for o in distribution["origin"]}
    assert origins["api-primary"]["domain_name"] == f"api.{config.domain}"
    assert origins["api-secondary"]["domain_name"] == f"origin-{config.secondary.region}.{config.domain}"
    for origin_id in ("api-primary", "api-secondary"):
        origin = origins[origin_id]
        assert origin["custom_origin_config"]["origin_protocol_policy"] == "https-only"
        assert origin["custom_origin_config"]["origin_ssl_protocols"] == ["TLSv1.2"]
        (header,) = origin["custom_header"]
        assert header["name"] == ORIGIN_VERIFY_HEADER
        # Derived from the primary compute stack's outputs: the value the ALB rules of both regions require.
        assert header["value"].startswith("${sha256(")
        assert f"cross-stack-reference-input-{stage}-primary-compute" in header["value"]
        assert not re.search(r"[0-9a-f]{32}", header["value"])  # never a literal in code or config


@pytest.mark.parametrize("stage", STAGE_NAMES)
def test_api_failover_records_follow_health_checks_on_each_regions_readyz(platform: Platform, stage: str) -> None:
    config = platform.config.stages[stage]
    doc = edge_doc(platform, stage)
    checks = resources(doc, "aws_route53_health_check")
    records = [r for r in resources(doc, "aws_route53_record").values() if r["name"] == f"api.{config.domain}"]
    assert sorted(r["failover_routing_policy"]["type"] for r in records) == ["PRIMARY", "SECONDARY"]
    for record in records:
        role = record["failover_routing_policy"]["type"].lower()
        check = checks[ref_name(record["health_check_id"])]
        assert check["type"] == "HTTPS" and check["resource_path"] == READINESS_PATH and check["enable_sni"] is True
        assert check["fqdn"] == f"origin-{config.region(role).region}.{config.domain}"
        assert f"cross-stack-reference-input-{stage}-{role}-compute" in record["alias"]["name"]
        assert record["alias"]["evaluate_target_health"] is True


@pytest.mark.parametrize("stage", STAGE_NAMES)
def test_apex_and_www_alias_the_distribution(platform: Platform, stage: str) -> None:
    domain = platform.config.stages[stage].domain
    doc = edge_doc(platform, stage)
    aliases = {
        (r["name"], r["type"])
        for r in resources(doc, "aws_route53_record").values()
        if "aws_cloudfront_distribution.distribution.domain_name" in r.get("alias", {}).get("name", "")
    }
    assert aliases == {(name, t) for name in (domain, f"www.{domain}") for t in ("A", "AAAA")}


@pytest.mark.parametrize("stage", STAGE_NAMES)
def test_certificates_validate_by_dns_in_the_right_regions(platform: Platform, stage: str) -> None:
    doc = edge_doc(platform, stage)
    _, certificate = only(doc, "aws_acm_certificate")
    assert certificate["validation_method"] == "DNS"
    assert provider_region(doc, certificate["provider"].removeprefix("aws.")) == CLOUDFRONT_REGION
    for role in ("primary", "secondary"):
        compute = platform.docs[f"{stage}-{role}-compute"]
        _, regional = only(compute, "aws_acm_certificate")
        assert regional["validation_method"] == "DNS" and "provider" not in regional  # the ALB's own region
    for name in (f"{stage}-primary-edge", f"{stage}-primary-compute", f"{stage}-secondary-compute"):
        validation = [r for r in resources(platform.docs[name], "aws_route53_record").values() if "for_each" in r]
        assert len(validation) == 1 and "domain_validation_options" in validation[0]["for_each"]


@pytest.mark.parametrize("stage", STAGE_NAMES)
def test_security_headers_and_edge_logging(platform: Platform, stage: str) -> None:
    doc = edge_doc(platform, stage)
    _, policy = only(doc, "aws_cloudfront_response_headers_policy")
    headers = policy["security_headers_config"]
    hsts = headers["strict_transport_security"]
    assert hsts["access_control_max_age_sec"] >= 31_536_000 and hsts["include_subdomains"] is True
    assert "frame-ancestors 'none'" in headers["content_security_policy"]["content_security_policy"]
    assert headers["frame_options"]["frame_option"] == "DENY" and headers["content_type_options"]["override"]
    _, source = only(doc, "aws_cloudwatch_log_delivery_source")
    assert (
        source["log_type"] == "ACCESS_LOGS" and "aws_cloudfront_distribution.distribution.arn" in source["resource_arn"]
    )
    acl_key, _ = only(doc, "aws_wafv2_web_acl")
    _, logging = only(doc, "aws_wafv2_web_acl_logging_configuration")
    assert ref_name(logging["resource_arn"]) == acl_key
    redacted = {f["single_header"]["name"] for f in logging["redacted_fields"]}
    assert redacted >= {"authorization", "cookie"}
    # Allowed requests are in the CloudFront access log (checked above); the WAF log keeps what a rule acted on.
    log_filter = logging["logging_filter"]
    assert log_filter["default_behavior"] == "DROP"
    [keep] = log_filter["filter"]
    kept = {c["action_condition"]["action"] for c in keep["condition"]}
    assert keep["behavior"] == "KEEP" and keep["requirement"] == "MEETS_ANY" and {"BLOCK", "COUNT"} <= kept
