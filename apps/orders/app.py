"""Orders app factory: `gunicorn -c apps/runtime/gunicorn_conf.py 'apps.orders.app:create_app()'`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from flask import Blueprint, Flask

from apps.orders.routes import build_routes
from apps.runtime.config import Setting, integer, key_bytes, text
from apps.runtime.factory import Service, create_service_app
from apps.workers.celery_app import make_celery
from apps.workers.config import AWS_SETTINGS, queue_settings, queue_urls

SERVICE = "orders"


def schema_name(raw: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_]{1,64}", raw):
        raise ValueError("expected a database name of letters, digits and underscores")
    return raw


SETTINGS: tuple[Setting, ...] = (
    Setting("SESSION_PUBLIC_KEY", key_bytes(32), None, "Ed25519 public key (base64) verifying accounts' sessions"),
    Setting("ADMIN_TOKEN", text(32), None, "Bearer token for back-office transitions (fulfil)", True),
    Setting("CATALOG_SCHEMA", schema_name, None, "Database holding catalog's products (the stock rows)"),
    Setting("DEFERRED_TTL_S", integer(60, 7 * 86400), "86400", "How long a 202-accepted checkout is remembered"),
    *AWS_SETTINGS,
    *queue_settings(SERVICE),
)
OPENAPI = Path(__file__).with_name("openapi.yaml")


def create_app(environ: Mapping[str, str] | None = None) -> Flask:
    def routes(svc: Service) -> Blueprint:
        s = svc.settings
        # producer only (deferred checkouts): the timeouts matter to consumers, these are the queues' defaults
        svc.extras["celery"] = make_celery(
            SERVICE,
            queue_urls(s, SERVICE),
            s.aws_endpoint_url,
            s.aws_region,
            visibility_timeout_s=300,
            task_time_limit_s=120,
        )
        return build_routes(svc)

    return create_service_app(SERVICE, SETTINGS, OPENAPI, routes, environ)
