"""Hostile and malformed input: every case is a 4xx problem document and leaves the tables untouched."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from apps.localdeps import LocalDeps
from apps.testing import ContractClient


def row_counts(deps: LocalDeps, app: Flask) -> tuple[int, ...]:
    db = app.extensions["peakshop"].settings.db_writer_url.database
    rows = deps.writer.query(  # type: ignore[union-attr]
        f"SELECT (SELECT COUNT(*) FROM `{db}`.products) p, (SELECT COUNT(*) FROM `{db}`.categories) c, "
        f"(SELECT COUNT(*) FROM `{db}`.product_media) m"
    )
    return tuple(rows[0].values())


GOOD = {"sku": "BAD-OK", "name": "Fine", "price_cents": 100, "currency": "EUR"}


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        ("", "application/json", 400),
        (json.dumps(GOOD), "text/plain", 415),
        (json.dumps([GOOD]), "application/json", 422),
        (json.dumps({**GOOD, "price_cents": "100"}), "application/json", 422),
        (json.dumps({**GOOD, "price_cents": -1}), "application/json", 422),
        (json.dumps({**GOOD, "price_cents": 10**30}), "application/json", 422),
        (json.dumps({**GOOD, "price_cents": 1.5}), "application/json", 422),
        (json.dumps({**GOOD, "stock": -5}), "application/json", 422),
        (json.dumps({**GOOD, "currency": "euro"}), "application/json", 422),
        (json.dumps({**GOOD, "sku": "x'; DROP TABLE products; --"}), "application/json", 422),
        (json.dumps({**GOOD, "name": ""}), "application/json", 422),
        (json.dumps({**GOOD, "name": "a" * 201}), "application/json", 422),
        ('{"sku": "BAD-1", "name": "\\ud800", "price_cents": 1, "currency": "EUR"}', "application/json", 422),
        (json.dumps({**GOOD, "name": "nul\u0000byte"}), "application/json", 422),
        (json.dumps({**GOOD, "unexpected": True}), "application/json", 422),
        (json.dumps({**GOOD, "category": "no-such-category"}), "application/json", 422),
    ],
)
def test_bad_product_bodies_are_rejected_without_writes(
    admin: ContractClient, deps: LocalDeps, catalog_app: Flask, body: str, content_type: str, status: int
):
    before = row_counts(deps, catalog_app)
    resp = admin.post("/api/catalog/products", data=body, content_type=content_type)
    assert resp.status_code == status, resp.get_json()
    assert row_counts(deps, catalog_app) == before


def test_oversized_body_is_413_without_writes(admin: ContractClient, deps: LocalDeps, catalog_app: Flask):
    before = row_counts(deps, catalog_app)
    huge = json.dumps({**GOOD, "description": "x" * 70_000})
    assert admin.post("/api/catalog/products", data=huge, content_type="application/json").status_code == 413
    assert row_counts(deps, catalog_app) == before


def test_writes_need_the_admin_token(api: ContractClient, deps: LocalDeps, catalog_app: Flask):
    before = row_counts(deps, catalog_app)
    assert api.post("/api/catalog/products", json=GOOD).status_code == 401
    wrong = api.post("/api/catalog/products", json=GOOD, headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401 and "Bearer" in wrong.headers["WWW-Authenticate"]
    assert row_counts(deps, catalog_app) == before


def test_sql_injection_shaped_search_is_just_text(
    api: ContractClient, admin: ContractClient, deps: LocalDeps, catalog_app: Flask
):
    admin.post("/api/catalog/products", json={**GOOD, "sku": "INJ-1", "name": "Robert'); DROP TABLE products;--"})
    deps.wait_replica_caught_up()
    before = row_counts(deps, catalog_app)
    for q in ("' OR '1'='1", "1; DROP TABLE products", "\\", "Robert');"):
        resp = api.get("/api/catalog/products", query_string={"q": q})
        assert resp.status_code == 200
        assert all(q.lower() in p["name"].lower() for p in resp.get_json()["items"])
    assert row_counts(deps, catalog_app) == before


def test_unicode_names_round_trip(admin: ContractClient, api: ContractClient, deps: LocalDeps):
    name = "Zelt 🏕️ für 2 — ñandú ﷺ e\u0301"  # 4-byte emoji, combining accent, RTL ligature
    created = admin.post("/api/catalog/products", json={**GOOD, "sku": "UNI-1", "name": name})
    assert created.status_code == 201
    deps.wait_replica_caught_up()
    assert api.get(f"/api/catalog/products/{created.get_json()['id']}").get_json()["name"] == name
    assert api.get("/api/catalog/products", query_string={"q": "🏕️"}).get_json()["total"] == 1


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=-1",
        "page=abc",
        "page_size=101",
        "page_size=0",
        "min_price=-5",
        "max_price=1e3",
        "sort=price;DROP",
        "in_stock=maybe",
        "page=99999999999999999999",
        "q=" + "x" * 101,
    ],
)
def test_bad_query_parameters_are_400(api: ContractClient, query: str):
    resp = api.get(f"/api/catalog/products?{query}")
    assert resp.status_code == 400
    assert resp.get_json()["type"].endswith("invalid-parameter")


@pytest.mark.parametrize(
    "path",
    [
        "/api/catalog/products/0",
        "/api/catalog/products/424242",
        "/api/catalog/products/99999999999999999999999",
        "/api/catalog/products/abc",
        "/api/catalog/nope",
    ],
)
def test_unknown_ids_and_paths_are_404_problems(api: ContractClient, path: str):
    assert api.get(path).status_code == 404


def test_wrong_method_is_405_problem(api: ContractClient):
    resp = api.request("DELETE", "/api/catalog/products")
    assert resp.status_code == 405 and "GET" in resp.headers["Allow"]


def test_patch_rejects_empty_and_unknown_fields_without_writes(
    admin: ContractClient, deps: LocalDeps, catalog_app: Flask
):
    pid = admin.post("/api/catalog/products", json={**GOOD, "sku": "PATCH-1"}).get_json()["id"]
    for body in ({}, {"price_cents": -1}, {"sku": "NEW"}, {"stock": 10**12}, {"active": "yes"}):
        assert admin.patch(f"/api/catalog/products/{pid}", json=body).status_code == 422
    assert admin.patch("/api/catalog/products/987654", json={"stock": 1}).status_code == 404
    db = catalog_app.extensions["peakshop"].settings.db_writer_url.database
    row = deps.writer.query(f"SELECT price_cents, stock, active FROM `{db}`.products WHERE id = %s", (pid,))[0]  # type: ignore[union-attr]
    assert row == {"price_cents": 100, "stock": 0, "active": 1}
