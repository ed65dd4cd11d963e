"""The READMEs' settings tables are generated from the code and current; the orders and payments OpenAPI
documents are valid 3.1 and document exactly the routes the apps serve."""

from __future__ import annotations

import importlib
import re

import pytest
import yaml
from openapi_spec_validator import validate

from apps.runtime.config import COMMON_SETTINGS, settings_table
from apps.workers.localenv import REPO
from apps.workers.settings_doc import tables

KEY = "A" * 43 + "="


def dummy_env(service: str) -> dict[str, str]:
    p = f"PEAKSHOP_{service.upper()}_"
    return {
        p + "DB_WRITER_URL": "mysql://u:p@127.0.0.1:1/peakshop_x",
        p + "REDIS_URL": "redis://127.0.0.1:1/0",
        p + "SESSION_PUBLIC_KEY": KEY,
        p + "ADMIN_TOKEN": "t" * 32,
        p + "CATALOG_SCHEMA": "peakshop_catalog",
        p + "QUEUE_URL_ORDERS": "http://sqs.local/1/orders",
    }


@pytest.mark.parametrize("service", ["orders", "payments"])
def test_openapi_is_valid_and_matches_routes(service: str):
    doc = yaml.safe_load((REPO / "apps" / service / "openapi.yaml").read_text())
    validate(doc)
    app = importlib.import_module(f"apps.{service}.app").create_app(dummy_env(service))
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(f"/api/{service}/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            served |= {(path, m.lower()) for m in rule.methods or () if m not in ("HEAD", "OPTIONS")}
    assert served == {(path, m) for path, item in doc["paths"].items() for m in item if m != "parameters"}


@pytest.mark.parametrize("service", ["orders", "payments"])
def test_service_readme_settings_table_is_current(service: str):
    module = importlib.import_module(f"apps.{service}.app")
    table = settings_table(service, (*COMMON_SETTINGS, *module.SETTINGS))
    assert table in (REPO / "apps" / service / "README.md").read_text(), (
        f"python -m apps.runtime.settings_doc {service}"
    )


def test_workers_readme_settings_tables_are_current():
    assert tables() in (REPO / "apps/workers/README.md").read_text(), "python -m apps.workers.settings_doc"
