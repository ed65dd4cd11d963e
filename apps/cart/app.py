"""Cart app factory: `gunicorn -c apps/runtime/gunicorn_conf.py apps.cart.wsgi:app`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from flask import Blueprint, Flask

from apps.cart.catalog_client import CatalogClient
from apps.cart.routes import build_routes
from apps.runtime.config import Setting, http_url, integer, key_bytes, number
from apps.runtime.factory import Service, create_service_app

SERVICE = "cart"
SETTINGS: tuple[Setting, ...] = (
    Setting("CATALOG_URL", http_url, None, "Base URL of the catalog service (price, name, stock lookups)"),
    Setting("CATALOG_TIMEOUT_S", number(0.05, 30), "2", "Timeout of one catalog lookup"),
    Setting("SESSION_PUBLIC_KEY", key_bytes(32), None, "Ed25519 public key (base64) verifying accounts' tokens"),
    Setting("MAX_QUANTITY", integer(1, 1000), "10", "Most units of one product in a cart"),
    Setting("MAX_LINES", integer(1, 500), "50", "Most different products in a cart"),
    Setting("CART_TTL_S", integer(60, 365 * 86400), "2592000", "A cart untouched this long is expired"),
)
OPENAPI = Path(__file__).with_name("openapi.yaml")


def create_app(environ: Mapping[str, str] | None = None) -> Flask:
    def routes(svc: Service) -> Blueprint:
        svc.extras["catalog"] = CatalogClient(svc.settings.catalog_url, svc.settings.catalog_timeout_s)
        return build_routes(svc)

    return create_service_app(SERVICE, SETTINGS, OPENAPI, routes, environ)
