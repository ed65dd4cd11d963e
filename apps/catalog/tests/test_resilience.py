"""Failure drills with real processes: the replica stopped or lagging, Redis stopped, the writer stopped,
connections killed. Reads keep succeeding from the writer and every fallback shows up in the metrics."""

from __future__ import annotations

import time

from flask import Flask

from apps.localdeps import LocalDeps
from apps.testing import ContractClient, metric

PRODUCT = {"name": "Drill item", "price_cents": 700, "currency": "EUR", "stock": 2}


def create(admin: ContractClient, sku: str) -> int:
    resp = admin.post("/api/catalog/products", json={"sku": sku, **PRODUCT})
    assert resp.status_code == 201
    return int(resp.get_json()["id"])


def route_count(app: Flask, target: str, reason: str) -> float:
    return metric(app, "peakshop_db_route_total", target=target, reason=reason)


def test_reader_down_reads_come_from_the_writer(
    admin: ContractClient, api: ContractClient, catalog_app: Flask, healthy_deps: LocalDeps
):
    pid = create(admin, "DRILL-READER")
    healthy_deps.wait_replica_caught_up()
    before = route_count(catalog_app, "writer", "reader_down")
    healthy_deps.stop_dependency("replica")
    for query in (f"/api/catalog/products/{pid}", "/api/catalog/products?q=Drill", "/api/catalog/categories"):
        resp = api.get(query)
        assert resp.status_code == 200, resp.get_json()
    assert api.get(f"/api/catalog/products/{pid}").get_json()["sku"] == "DRILL-READER"
    assert route_count(catalog_app, "writer", "reader_down") > before
    assert api.get("/readyz").status_code == 200  # degraded, still serving
    assert api.get("/readyz").get_json()["checks"]["db_reader"] is False

    healthy_deps.start_dependency("replica")
    healthy_deps.wait_replica_caught_up()
    replica_before = route_count(catalog_app, "reader", "replica")
    deadline = time.monotonic() + 30  # READER_RETRY_AFTER_S (5 s), then the lag probe must see a healthy replica
    attempt = 0
    while route_count(catalog_app, "reader", "replica") == replica_before and time.monotonic() < deadline:
        attempt += 1  # a new query each time: a repeated one would be served from the cache, never the database
        assert api.get(f"/api/catalog/products?q=back-on-replica-{attempt}").status_code == 200
        time.sleep(0.2)
    assert route_count(catalog_app, "reader", "replica") > replica_before


def test_lagging_replica_is_bypassed_and_lag_is_exported(
    admin: ContractClient, api: ContractClient, catalog_app: Flask, healthy_deps: LocalDeps
):
    healthy_deps.set_replica_delay(60)
    pid = create(admin, "DRILL-LAG")
    deadline = time.monotonic() + 15
    while (healthy_deps.replica_lag()["seconds_behind_master"] or 0) <= 2.5 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert healthy_deps.replica_lag()["seconds_behind_master"] > 2
    before = route_count(catalog_app, "writer", "replica_lag")
    fresh_client = ContractClient(catalog_app, "catalog")  # no read-your-writes cookie
    resp = fresh_client.get(f"/api/catalog/products/{pid}")
    assert resp.status_code == 200 and resp.get_json()["sku"] == "DRILL-LAG"  # the replica does not have it yet
    assert route_count(catalog_app, "writer", "replica_lag") > before
    assert metric(catalog_app, "peakshop_db_replica_lag_seconds") > 2
    exposition = fresh_client.get("/metrics").data.decode()
    assert "peakshop_db_replica_lag_seconds" in exposition and 'reason="replica_lag"' in exposition


def test_redis_down_degrades_to_the_database(
    admin: ContractClient, api: ContractClient, catalog_app: Flask, healthy_deps: LocalDeps
):
    pid = create(admin, "DRILL-REDIS")
    healthy_deps.wait_replica_caught_up()
    errors = metric(catalog_app, "peakshop_cache_requests_total", result="error")
    bypass = metric(catalog_app, "peakshop_cache_requests_total", result="bypass")
    healthy_deps.stop_dependency("redis")
    for _ in range(3):
        assert api.get(f"/api/catalog/products/{pid}").status_code == 200
    patched = admin.patch(f"/api/catalog/products/{pid}", json={"price_cents": 650})
    assert patched.status_code == 200
    assert api.get("/api/catalog/products?q=DRILL").status_code == 200
    assert metric(catalog_app, "peakshop_cache_requests_total", result="error") > errors
    assert metric(catalog_app, "peakshop_cache_requests_total", result="bypass") > bypass
    assert api.get("/readyz").status_code == 200

    healthy_deps.start_dependency("redis")
    time.sleep(0.6)  # REDIS_RETRY_AFTER_S in tests
    healthy_deps.wait_replica_caught_up()
    assert api.get(f"/api/catalog/products/{pid}").get_json()["price_cents"] == 650


def test_writer_down_fails_writes_with_503_and_recovers(
    admin: ContractClient, api: ContractClient, catalog_app: Flask, healthy_deps: LocalDeps
):
    db = catalog_app.extensions["peakshop"].settings.db_writer_url.database
    healthy_deps.stop_dependency("writer")
    resp = admin.post("/api/catalog/products", json={"sku": "DRILL-WRITER", **PRODUCT})
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "1"
    assert api.get("/api/catalog/categories").status_code == 200  # reads still served by the replica
    assert api.get("/readyz").status_code == 200
    healthy_deps.start_dependency("writer")
    count = healthy_deps.writer.query(f"SELECT COUNT(*) AS n FROM `{db}`.products WHERE sku = 'DRILL-WRITER'")
    assert count[0]["n"] == 0
    assert admin.post("/api/catalog/products", json={"sku": "DRILL-WRITER", **PRODUCT}).status_code == 201


def test_killed_connections_are_retried_transparently(
    admin: ContractClient, catalog_app: Flask, healthy_deps: LocalDeps
):
    create(admin, "DRILL-KILL-1")  # leaves pooled writer connections behind
    for row in healthy_deps.writer.query("SELECT id FROM information_schema.processlist WHERE user = 'app'"):
        healthy_deps.writer.query(f"KILL {int(row['id'])}")
    retries = metric(catalog_app, "peakshop_db_retries_total")
    assert admin.post("/api/catalog/products", json={"sku": "DRILL-KILL-2", **PRODUCT}).status_code == 201
    assert metric(catalog_app, "peakshop_db_retries_total") > retries
