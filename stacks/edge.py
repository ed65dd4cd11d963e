"""edge layer (one stack per stage, in the primary role; it spans both regions): CloudFront in front of the
storefront and media buckets and both regions' ALBs, the CLOUDFRONT-scope WAF, the viewer certificate, and
the Route 53 health checks and records.

Failover happens at two levels. Per request, the `/api/*` behaviour targets an origin group whose primary
member is `api.<domain>` and whose secondary member is the secondary region's ALB: a 5xx or connection
failure on a GET/HEAD/OPTIONS is retried there at once (CloudFront retries no other method). Per region,
`api.<domain>` is a Route 53 PRIMARY/SECONDARY failover pair with health checks on each region's `/readyz`,
so when the primary region fails its health check, writes move to the secondary region as well.

The WAF ACLs of the ALBs live with the ALBs (compute stacks); `web_acls` collects all three here.
"""

from __future__ import annotations

from cdktf import TerraformIterator, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.cloudfront_cache_policy import (
    CloudfrontCachePolicy,
    CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOrigin,
    CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfig,
    CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfig,
    CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigHeaders,
    CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfig,
)
from cdktf_cdktf_provider_aws.cloudfront_distribution import (
    CloudfrontDistribution,
    CloudfrontDistributionDefaultCacheBehavior,
    CloudfrontDistributionOrderedCacheBehavior,
    CloudfrontDistributionOrderedCacheBehaviorFunctionAssociation,
    CloudfrontDistributionOrigin,
    CloudfrontDistributionOriginCustomHeader,
    CloudfrontDistributionOriginCustomOriginConfig,
    CloudfrontDistributionOriginGroup,
    CloudfrontDistributionOriginGroupFailoverCriteria,
    CloudfrontDistributionOriginGroupMember,
    CloudfrontDistributionRestrictions,
    CloudfrontDistributionRestrictionsGeoRestriction,
    CloudfrontDistributionViewerCertificate,
)
from cdktf_cdktf_provider_aws.cloudfront_function import CloudfrontFunction
from cdktf_cdktf_provider_aws.cloudfront_origin_access_control import CloudfrontOriginAccessControl
from cdktf_cdktf_provider_aws.cloudfront_origin_request_policy import (
    CloudfrontOriginRequestPolicy,
    CloudfrontOriginRequestPolicyCookiesConfig,
    CloudfrontOriginRequestPolicyHeadersConfig,
    CloudfrontOriginRequestPolicyHeadersConfigHeaders,
    CloudfrontOriginRequestPolicyQueryStringsConfig,
)
from cdktf_cdktf_provider_aws.cloudfront_response_headers_policy import (
    CloudfrontResponseHeadersPolicy,
    CloudfrontResponseHeadersPolicySecurityHeadersConfig,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicy,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigContentTypeOptions,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigFrameOptions,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigReferrerPolicy,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurity,
)
from cdktf_cdktf_provider_aws.cloudwatch_log_delivery import CloudwatchLogDelivery
from cdktf_cdktf_provider_aws.cloudwatch_log_delivery_destination import (
    CloudwatchLogDeliveryDestination,
    CloudwatchLogDeliveryDestinationDeliveryDestinationConfiguration,
)
from cdktf_cdktf_provider_aws.cloudwatch_log_delivery_source import CloudwatchLogDeliverySource
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_route53_zone import DataAwsRoute53Zone
from cdktf_cdktf_provider_aws.route53_health_check import Route53HealthCheck
from cdktf_cdktf_provider_aws.route53_record import (
    Route53Record,
    Route53RecordAlias,
    Route53RecordFailoverRoutingPolicy,
)
from constructs import Construct

from peakshop_constructs.kms import EncryptionKey, logs_statement
from peakshop_constructs.regional import use_provider
from peakshop_constructs.waf import ManagedRulesWebAcl
from stacks.base import LayerStack
from stacks.compute import ORIGIN_VERIFY_HEADER, ComputeStack
from stacks.config import StageConfig
from stacks.data import DataStack
from stacks.network import HTTPS_PORT
from stacks.workloads import READINESS_PATH

CLOUDFRONT_REGION = "us-east-1"  # CloudFront certificates, CLOUDFRONT-scope WAF and log delivery live here
EDGE_RATE_LIMIT = 1000  # requests per client IP per 5 minutes
FAILOVER_STATUS_CODES = [500, 502, 503, 504]
MEDIA_PATH = "/media"
STATIC_TTL_S = 86_400
STATIC_MAX_TTL_S = 31_536_000
HSTS_MAX_AGE_S = 63_072_000  # two years, the preload list's minimum is one
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; "
    "upgrade-insecure-requests"
)
# The API sees the viewer's auth and content negotiation; Host stays the origin's (it must match the ALB
# certificate), and Authorization can only be forwarded through the cache policy.
API_FORWARDED_HEADERS = ["Accept", "Accept-Language", "Content-Type", "Origin", "Referer", "User-Agent"]
# Strips `/media` so that `/media/products/x.jpg` reads `products/x.jpg` from the media bucket.
STRIP_MEDIA_PREFIX = f"""function handler(event) {{
  var request = event.request;
  request.uri = request.uri.replace(/^\\{MEDIA_PATH}\\//, '/');
  return request;
}}
"""
ALL_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
READ_METHODS = ["GET", "HEAD"]


class EdgeStack(LayerStack):
    layer = "edge"

    def __init__(
        self,
        scope: Construct,
        stage: StageConfig,
        *,
        primary: ComputeStack,
        secondary: ComputeStack,
        data: DataStack,
    ) -> None:
        super().__init__(scope, stage, "primary")
        self.compute = {"primary": primary, "secondary": secondary}
        self.data = data
        self.domain = stage.domain
        self.log_retention = max(stage.sizes.log_retention_days, 365)
        self.cloudfront_provider = self.aws_provider("aws-cloudfront", CLOUDFRONT_REGION, alias="cloudfront")
        self.zone = DataAwsRoute53Zone(self, "zone", name=stage.domain, private_zone=False)
        self.logs_key = self._logs_key()
        cloudfront_acl = ManagedRulesWebAcl(
            self,
            "waf",
            name=f"{self.prefix}-cloudfront",
            waf_scope="CLOUDFRONT",
            rate_limit=EDGE_RATE_LIMIT,
            log_retention_days=self.log_retention,
            logs_kms_key_arn=self.logs_key.arn,
        )
        use_provider(cloudfront_acl, self.cloudfront_provider)
        self.web_acls: dict[str, ManagedRulesWebAcl] = {
            "cloudfront": cloudfront_acl,
            "primary": primary.web_acl,
            "secondary": secondary.web_acl,
        }
        self._distribution(self._certificate())
        self._access_logs()
        self._dns()

    # ------------------------------------------------------------------------------------------- keys
    @property
    def access_log_group_name(self) -> str:
        return f"/peakshop/{self.stage.name}/cloudfront-access"

    def _logs_key(self) -> EncryptionKey:
        account = self.caller.account_id
        groups = [f"aws-waf-logs-{self.prefix}-cloudfront", self.access_log_group_name]
        key = EncryptionKey(
            self,
            "logs-key",
            alias=f"{self.prefix}-edge-logs",
            description="CloudWatch Logs encryption for the CloudFront WAF and access logs",
            account_root_arn=self.account_root_arn,
            account_id=account,
            service_statements=[
                logs_statement(
                    CLOUDFRONT_REGION,
                    [
                        f"arn:{self.partition.partition}:logs:{CLOUDFRONT_REGION}:{account}:log-group:{g}"
                        for g in groups
                    ],
                )
            ],
        )
        use_provider(key, self.cloudfront_provider)
        return key

    # ------------------------------------------------------------------------------------ certificate
    def _certificate(self) -> str:
        names = [self.domain, f"www.{self.domain}"]
        certificate = AcmCertificate(
            self,
            "certificate",
            provider=self.cloudfront_provider,
            domain_name=names[0],
            subject_alternative_names=names[1:],
            validation_method="DNS",
            key_algorithm="EC_prime256v1",
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        options = TerraformIterator.from_complex_list(certificate.domain_validation_options, "domain_name")
        records = Route53Record(
            self,
            "certificate-validation",
            for_each=options,
            zone_id=self.zone.zone_id,
            name=options.get_string("resource_record_name"),
            type=options.get_string("resource_record_type"),
            records=[options.get_string("resource_record_value")],
            ttl=300,
            allow_overwrite=True,
        )
        validated = AcmCertificateValidation(
            self,
            "certificate-validated",
            provider=self.cloudfront_provider,
            certificate_arn=certificate.arn,
            depends_on=[records],
        )
        return validated.certificate_arn

    # ----------------------------------------------------------------------------------- distribution
    def _policies(self) -> dict[str, str]:
        """Cache, origin-request and response-headers policies (global CloudFront resources)."""
        name = self.prefix
        static = CloudfrontCachePolicy(
            self,
            "cache-static",
            name=f"{name}-static",
            comment="Storefront and media: long TTL, no cookies or headers in the key",
            min_ttl=1,
            default_ttl=STATIC_TTL_S,
            max_ttl=STATIC_MAX_TTL_S,
            parameters_in_cache_key_and_forwarded_to_origin=CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOrigin(
                enable_accept_encoding_brotli=True,
                enable_accept_encoding_gzip=True,
                cookies_config=CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfig(
                    cookie_behavior="none"
                ),
                headers_config=CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfig(
                    header_behavior="none"
                ),
                query_strings_config=CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfig(
                    query_string_behavior="none"
                ),
            ),
        )
        # No caching (max TTL 1 s only because CloudFront forwards Authorization solely via the cache key).
        api = CloudfrontCachePolicy(
            self,
            "cache-api",
            name=f"{name}-api",
            comment="API: not cached; Authorization forwarded",
            min_ttl=0,
            default_ttl=0,
            max_ttl=1,
            parameters_in_cache_key_and_forwarded_to_origin=CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOrigin(
                enable_accept_encoding_brotli=True,
                enable_accept_encoding_gzip=True,
                cookies_config=CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfig(
                    cookie_behavior="none"
                ),
                headers_config=CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfig(
                    header_behavior="whitelist",
                    headers=CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigHeaders(
                        items=["Authorization"]
                    ),
                ),
                query_strings_config=CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfig(
                    query_string_behavior="all"
                ),
            ),
        )
        api_request = CloudfrontOriginRequestPolicy(
            self,
            "origin-request-api",
            name=f"{name}-api",
            comment="API: viewer headers the services read, all cookies and query strings",
            cookies_config=CloudfrontOriginRequestPolicyCookiesConfig(cookie_behavior="all"),
            headers_config=CloudfrontOriginRequestPolicyHeadersConfig(
                header_behavior="whitelist",
                headers=CloudfrontOriginRequestPolicyHeadersConfigHeaders(items=API_FORWARDED_HEADERS),
            ),
            query_strings_config=CloudfrontOriginRequestPolicyQueryStringsConfig(query_string_behavior="all"),
        )
        headers = CloudfrontResponseHeadersPolicy(
            self,
            "security-headers",
            name=f"{name}-security-headers",
            comment="HSTS, CSP, nosniff, frame denial, referrer policy on every response",
            security_headers_config=CloudfrontResponseHeadersPolicySecurityHeadersConfig(
                strict_transport_security=CloudfrontResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurity(
                    access_control_max_age_sec=HSTS_MAX_AGE_S, include_subdomains=True, preload=True, override=True
                ),
                content_security_policy=CloudfrontResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicy(
                    content_security_policy=CONTENT_SECURITY_POLICY, override=True
                ),
                content_type_options=CloudfrontResponseHeadersPolicySecurityHeadersConfigContentTypeOptions(
                    override=True
                ),
                frame_options=CloudfrontResponseHeadersPolicySecurityHeadersConfigFrameOptions(
                    frame_option="DENY", override=True
                ),
                referrer_policy=CloudfrontResponseHeadersPolicySecurityHeadersConfigReferrerPolicy(
                    referrer_policy="strict-origin-when-cross-origin", override=True
                ),
            ),
        )
        return {"static": static.id, "api": api.id, "api_request": api_request.id, "headers": headers.id}

    def _alb_origin(self, origin_id: str, domain: str) -> CloudfrontDistributionOrigin:
        return CloudfrontDistributionOrigin(
            origin_id=origin_id,
            domain_name=domain,
            custom_origin_config=CloudfrontDistributionOriginCustomOriginConfig(
                http_port=80,
                https_port=HTTPS_PORT,
                origin_protocol_policy="https-only",
                origin_ssl_protocols=["TLSv1.2"],
                origin_read_timeout=30,
                origin_keepalive_timeout=5,
            ),
            custom_header=[
                CloudfrontDistributionOriginCustomHeader(
                    name=ORIGIN_VERIFY_HEADER, value=self.compute["primary"].origin_verify_value
                )
            ],
            connection_attempts=2,
            connection_timeout=5,
        )

    def _distribution(self, certificate_arn: str) -> None:
        policies = self._policies()
        oac = CloudfrontOriginAccessControl(
            self,
            "oac",
            name=f"{self.prefix}-s3",
            description="CloudFront reads the storefront and media buckets with SigV4",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
        )
        strip_media = CloudfrontFunction(
            self,
            "strip-media-prefix",
            name=f"{self.prefix}-strip-media-prefix",
            runtime="cloudfront-js-2.0",
            comment="/media/<key> -> <key> in the media bucket",
            code=STRIP_MEDIA_PREFIX,
            publish=True,
        )
        buckets = {name: self.data.buckets[name] for name in ("storefront", "media")}
        origins = [
            CloudfrontDistributionOrigin(
                origin_id=name,
                domain_name=bucket.bucket.bucket_regional_domain_name,
                origin_access_control_id=oac.id,
            )
            for name, bucket in buckets.items()
        ]
        primary, secondary = self.compute["primary"], self.compute["secondary"]
        origins += [
            self._alb_origin("api-primary", primary.api_domain),
            self._alb_origin("api-secondary", secondary.origin_domain),
        ]
        static_behavior = {
            "allowed_methods": READ_METHODS,
            "cached_methods": READ_METHODS,
            "viewer_protocol_policy": "redirect-to-https",
            "compress": True,
            "cache_policy_id": policies["static"],
            "response_headers_policy_id": policies["headers"],
        }
        self.distribution = CloudfrontDistribution(
            self,
            "distribution",
            enabled=True,
            comment=f"Peakshop {self.stage.name}",
            aliases=[self.domain, f"www.{self.domain}"],
            default_root_object="index.html",
            http_version="http2and3",
            is_ipv6_enabled=True,
            price_class="PriceClass_All" if self.stage.name == "prod" else "PriceClass_100",
            web_acl_id=self.web_acls["cloudfront"].arn,
            origin=origins,
            origin_group=[
                CloudfrontDistributionOriginGroup(
                    origin_id="api",
                    failover_criteria=CloudfrontDistributionOriginGroupFailoverCriteria(
                        status_codes=FAILOVER_STATUS_CODES
                    ),
                    member=[
                        CloudfrontDistributionOriginGroupMember(origin_id="api-primary"),
                        CloudfrontDistributionOriginGroupMember(origin_id="api-secondary"),
                    ],
                )
            ],
            default_cache_behavior=CloudfrontDistributionDefaultCacheBehavior(
                target_origin_id="storefront", **static_behavior
            ),
            ordered_cache_behavior=[
                CloudfrontDistributionOrderedCacheBehavior(
                    path_pattern="/api/*",
                    target_origin_id="api",
                    allowed_methods=ALL_METHODS,
                    cached_methods=READ_METHODS,
                    viewer_protocol_policy="https-only",
                    compress=True,
                    cache_policy_id=policies["api"],
                    origin_request_policy_id=policies["api_request"],
                    response_headers_policy_id=policies["headers"],
                ),
                CloudfrontDistributionOrderedCacheBehavior(
                    path_pattern=f"{MEDIA_PATH}/*",
                    target_origin_id="media",
                    function_association=[
                        CloudfrontDistributionOrderedCacheBehaviorFunctionAssociation(
                            event_type="viewer-request", function_arn=strip_media.arn
                        )
                    ],
                    **static_behavior,
                ),
            ],
            restrictions=CloudfrontDistributionRestrictions(
                geo_restriction=CloudfrontDistributionRestrictionsGeoRestriction(restriction_type="none")
            ),
            viewer_certificate=CloudfrontDistributionViewerCertificate(
                acm_certificate_arn=certificate_arn,
                ssl_support_method="sni-only",
                minimum_protocol_version="TLSv1.2_2021",
            ),
        )

    def _access_logs(self) -> None:
        """Standard logging v2 into CloudWatch Logs: the legacy S3 logging needs bucket ACLs, which the logs
        bucket disables (BucketOwnerEnforced)."""
        log_group = CloudwatchLogGroup(
            self,
            "access-logs",
            provider=self.cloudfront_provider,
            name=self.access_log_group_name,
            retention_in_days=self.log_retention,
            kms_key_id=self.logs_key.arn,
        )
        source = CloudwatchLogDeliverySource(
            self,
            "access-log-source",
            provider=self.cloudfront_provider,
            name=f"{self.prefix}-cloudfront",
            log_type="ACCESS_LOGS",
            resource_arn=self.distribution.arn,
        )
        destination = CloudwatchLogDeliveryDestination(
            self,
            "access-log-destination",
            provider=self.cloudfront_provider,
            name=f"{self.prefix}-cloudfront-logs",
            output_format="json",
            delivery_destination_configuration=[
                CloudwatchLogDeliveryDestinationDeliveryDestinationConfiguration(destination_resource_arn=log_group.arn)
            ],
        )
        CloudwatchLogDelivery(
            self,
            "access-log-delivery",
            provider=self.cloudfront_provider,
            delivery_source_name=source.name,
            delivery_destination_arn=destination.arn,
        )

    # -------------------------------------------------------------------------------------------- DNS
    def _dns(self) -> None:
        self.health_checks: dict[str, Route53HealthCheck] = {}
        for role, compute in self.compute.items():
            self.health_checks[role] = Route53HealthCheck(
                self,
                f"health-{role}",
                type="HTTPS",
                fqdn=compute.origin_domain,
                port=HTTPS_PORT,
                resource_path=READINESS_PATH,
                enable_sni=True,
                request_interval=10,
                failure_threshold=3,
                measure_latency=True,
                tags={"Name": f"{self.prefix}-{role}-readyz"},
            )
            Route53Record(
                self,
                f"api-{role}",
                zone_id=self.zone.zone_id,
                name=compute.api_domain,
                type="A",
                set_identifier=role,
                failover_routing_policy=Route53RecordFailoverRoutingPolicy(type=role.upper()),
                health_check_id=self.health_checks[role].id,
                alias=Route53RecordAlias(
                    name=compute.alb.dns_name, zone_id=compute.alb.zone_id, evaluate_target_health=True
                ),
            )
        for name in (self.domain, f"www.{self.domain}"):
            for record_type in ("A", "AAAA"):
                Route53Record(
                    self,
                    f"{'apex' if name == self.domain else 'www'}-{record_type.lower()}",
                    zone_id=self.zone.zone_id,
                    name=name,
                    type=record_type,
                    alias=Route53RecordAlias(
                        name=self.distribution.domain_name,
                        zone_id=self.distribution.hosted_zone_id,
                        evaluate_target_health=False,
                    ),
                )
