"""Each service's OpenAPI document is valid 3.1 and documents exactly the routes the app serves; each README
carries the settings table generated from the code."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate

from apps.runtime.config import COMMON_SETTINGS, settings_table

APPS = Path(__file__).resolve().parents[2]
SERVICES = ("catalog", "cart", "accounts")
DUMMY_KEY = "A" * 43 + "="  # 32 zero-ish bytes, base64: apps are built but never connect here


def dummy_env(service: str) -> dict[str, str]:
    p = f"PEAKSHOP_{service.upper()}_"
    return {
        p + "DB_WRITER_URL": "mysql://u:p@127.0.0.1:1/peakshop_x",
        p + "REDIS_URL": "redis://127.0.0.1:1/0",
        p + "ADMIN_TOKEN": "t" * 32,
        p + "MEDIA_BUCKET": "bucket",
        p + "CDN_BASE_URL": "https://cdn.example",
        p + "CATALOG_URL": "http://catalog:8000",
        p + "SESSION_PUBLIC_KEY": DUMMY_KEY,
        p + "SIGNING_KEY": DUMMY_KEY,
        p + "PII_KEYS": f"k1:{DUMMY_KEY}",
        p + "BLIND_INDEX_KEY": DUMMY_KEY,
        p + "PRIVACY_QUEUE_URL": "http://sqs.local/1/q",
    }


@pytest.mark.parametrize("service", SERVICES)
def test_openapi_is_valid_and_matches_routes(service: str):
    doc = yaml.safe_load((APPS / service / "openapi.yaml").read_text())
    validate(doc)
    app = importlib.import_module(f"apps.{service}.app").create_app(dummy_env(service))
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(f"/api/{service}/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            served |= {(path, m.lower()) for m in rule.methods or () if m not in ("HEAD", "OPTIONS")}
    documented = {(path, m) for path, item in doc["paths"].items() for m in item if m != "parameters"}
    assert served == documented


@pytest.mark.parametrize("service", SERVICES)
def test_readme_settings_table_is_current(service: str):
    module = importlib.import_module(f"apps.{service}.app")
    table = settings_table(service, (*COMMON_SETTINGS, *module.SETTINGS))
    readme = (APPS / service / "README.md").read_text()
    assert table in readme, f"regenerate the table: python -m apps.runtime.settings_doc {service}"
