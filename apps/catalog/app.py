"""Catalog app factory: `gunicorn -c apps/runtime/gunicorn_conf.py 'apps.catalog.app:create_app()'`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from flask import Blueprint, Flask

from apps.catalog.media import MediaStore
from apps.catalog.routes import build_routes
from apps.runtime.config import Setting, http_url, integer, text
from apps.runtime.factory import Service, create_service_app

SERVICE = "catalog"
SETTINGS: tuple[Setting, ...] = (
    Setting("ADMIN_TOKEN", text(32), None, "Bearer token for admin writes (from Secrets Manager)", True),
    Setting("MEDIA_BUCKET", text(3), None, "S3 bucket holding product media"),
    Setting("CDN_BASE_URL", http_url, None, "CloudFront base URL that serves the media bucket"),
    Setting("AWS_ENDPOINT_URL", http_url, "", "S3 endpoint override (local moto server); empty on AWS"),
    Setting("AWS_REGION", text(1), "eu-west-1", "Region of the media bucket"),
    Setting("MEDIA_MAX_BYTES", integer(1024, 50_000_000), "10000000", "Largest accepted media upload"),
    Setting("UPLOAD_URL_TTL_S", integer(60, 3600), "900", "Lifetime of a presigned upload"),
)
OPENAPI = Path(__file__).with_name("openapi.yaml")


def create_app(environ: Mapping[str, str] | None = None) -> Flask:
    def routes(svc: Service) -> Blueprint:
        s = svc.settings
        svc.extras["media"] = MediaStore(
            s.media_bucket, s.cdn_base_url, s.aws_endpoint_url, s.aws_region, s.media_max_bytes, s.upload_url_ttl_s
        )
        return build_routes(svc)

    return create_service_app(SERVICE, SETTINGS, OPENAPI, routes, environ)
