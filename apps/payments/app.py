"""Payments app factory: `gunicorn -c apps/runtime/gunicorn_conf.py 'apps.payments.app:create_app()'`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from flask import Blueprint, Flask

from apps.payments.config import PROVIDER_SETTINGS
from apps.payments.ledger import Ledger
from apps.payments.provider import build_provider
from apps.payments.routes import build_routes
from apps.runtime.config import Setting, http_url
from apps.runtime.factory import Service, create_service_app

SERVICE = "payments"
SETTINGS: tuple[Setting, ...] = (
    *PROVIDER_SETTINGS,
    Setting(
        "RETURN_URL", http_url, "https://peakshop.example/checkout/return", "Where the provider sends the shopper back"
    ),
)
OPENAPI = Path(__file__).with_name("openapi.yaml")


def create_app(environ: Mapping[str, str] | None = None) -> Flask:
    def routes(svc: Service) -> Blueprint:
        s = svc.settings
        provider = build_provider(s.payments_provider, s.payments_fake_ledger, s.payments_fake_latency_s)
        svc.extras["ledger"] = Ledger(svc.db, provider)
        svc.extras["provider"] = provider
        return build_routes(svc)

    return create_service_app(SERVICE, SETTINGS, OPENAPI, routes, environ)
