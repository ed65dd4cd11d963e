"""Accounts app factory: `gunicorn -c apps/runtime/gunicorn_conf.py apps.accounts.wsgi:app`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from flask import Blueprint, Flask

from apps.accounts.pii import PiiCipher, parse_keyring
from apps.accounts.privacy_queue import PrivacyQueue
from apps.accounts.routes import build_routes
from apps.runtime.config import Setting, http_url, integer, key_bytes, text
from apps.runtime.factory import Service, create_service_app

SERVICE = "accounts"
SETTINGS: tuple[Setting, ...] = (
    Setting("SIGNING_KEY", key_bytes(32), None, "Ed25519 private key seed (base64) that signs session tokens", True),
    Setting("PII_KEYS", parse_keyring, None, "PII encryption key ring `kid:base64key,...`; first encrypts", True),
    Setting("BLIND_INDEX_KEY", key_bytes(32), None, "HMAC key (base64) for email/address lookup indexes", True),
    Setting("SESSION_TTL_S", integer(60, 30 * 86400), "3600", "Session token lifetime"),
    Setting("PRIVACY_QUEUE_URL", http_url, None, "SQS queue URL receiving erasure requests"),
    Setting("AWS_ENDPOINT_URL", http_url, "", "SQS endpoint override (local moto server); empty on AWS"),
    Setting("AWS_REGION", text(1), "eu-west-1", "Region of the privacy queue"),
    Setting("ARGON2_TIME_COST", integer(1, 10), "3", "argon2id iterations"),
    Setting("ARGON2_MEMORY_KIB", integer(8192, 1_048_576), "65536", "argon2id memory per hash (KiB)"),
)
OPENAPI = Path(__file__).with_name("openapi.yaml")


def create_app(environ: Mapping[str, str] | None = None) -> Flask:
    def routes(svc: Service) -> Blueprint:
        s = svc.settings
        svc.extras["cipher"] = PiiCipher(s.pii_keys, s.blind_index_key)
        svc.extras["privacy_queue"] = PrivacyQueue(s.privacy_queue_url, s.aws_endpoint_url, s.aws_region)
        return build_routes(svc)

    return create_service_app(SERVICE, SETTINGS, OPENAPI, routes, environ)
