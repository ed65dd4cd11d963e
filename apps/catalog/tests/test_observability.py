"""Request IDs, JSON logs, Prometheus metrics by route and status, health endpoints."""

from __future__ import annotations

import io
import json
import logging
import uuid

from flask import Flask

from apps.testing import ContractClient


def test_request_id_is_propagated_into_header_and_logs(api: ContractClient, catalog_app: Flask):
    access = catalog_app.extensions["peakshop"].access_log
    buf = io.StringIO()
    old_stream, access.stream = access.stream, buf
    logger = logging.getLogger("peakshop.access")
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        resp = api.get("/api/catalog/products/777777", headers={"X-Request-ID": "edge-7f3a.1"})
        bad = api.get("/api/catalog/categories", headers={"X-Request-ID": "spaces and <script>" + "x" * 200})
    finally:
        access.stream = old_stream
        logger.setLevel(old_level)
    assert resp.headers["X-Request-ID"] == "edge-7f3a.1" and resp.get_json()["request_id"] == "edge-7f3a.1"
    assert "script" not in bad.headers["X-Request-ID"] and len(bad.headers["X-Request-ID"]) == 32
    assert uuid.UUID(bad.headers["X-Request-ID"]).version == 4  # a generated ID is a well-formed UUID4
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    mine = [entry for entry in lines if entry.get("request_id") == "edge-7f3a.1"]
    assert mine and mine[0]["status"] == 404 and mine[0]["route"] == "/api/catalog/products/<int:product_id>"
    assert mine[0]["service"] == "catalog" and mine[0]["level"] == "INFO" and mine[0]["logger"] == "peakshop.access"
    assert mine[0]["method"] == "GET" and isinstance(mine[0]["duration_ms"], float) and mine[0]["ts"].endswith("Z")


def test_metrics_count_requests_by_route_and_status(api: ContractClient, catalog_app: Flask):
    api.get("/api/catalog/products/888888")
    api.get("/api/catalog/products?page=0")
    text = api.get("/metrics").data.decode()
    assert (
        'peakshop_http_requests_total{method="GET",route="/api/catalog/products/<int:product_id>",'
        'service="catalog",status="404"}'
    ) in text
    assert 'route="/api/catalog/products",service="catalog",status="400"' in text
    assert "peakshop_http_request_duration_seconds_bucket" in text and "peakshop_db_route_total" in text


def test_health_endpoints(api: ContractClient):
    assert api.get("/healthz").get_json() == {"status": "ok"}
    ready = api.get("/readyz").get_json()
    assert ready["status"] == "ready" and ready["checks"] == {"db_writer": True, "db_reader": True, "cache": True}
