"""Catalog behaviour against real MariaDB (writer + replica), Redis and moto, checked against openapi.yaml."""

from __future__ import annotations

from flask import Flask

from apps.localdeps import LocalDeps
from apps.testing import ContractClient, metric


def make_product(admin: ContractClient, sku: str, **fields: object) -> dict:
    body = {"sku": sku, "name": f"Product {sku}", "price_cents": 1000, "currency": "EUR", "stock": 5, **fields}
    resp = admin.post("/api/catalog/products", json=body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_category_create_is_idempotent_and_conflicts_on_different_name(admin: ContractClient, api: ContractClient):
    first = admin.post("/api/catalog/categories", json={"slug": "tents", "name": "Tents"})
    again = admin.post("/api/catalog/categories", json={"slug": "tents", "name": "Tents"})
    clash = admin.post("/api/catalog/categories", json={"slug": "tents", "name": "Shelters"})
    assert (first.status_code, again.status_code, clash.status_code) == (201, 200, 409)
    assert again.get_json()["id"] == first.get_json()["id"]
    listed = admin.get("/api/catalog/categories").get_json()["items"]
    assert [c["slug"] for c in listed].count("tents") == 1


def test_product_create_retry_returns_same_product_and_different_data_conflicts(admin: ContractClient):
    created = make_product(admin, "IDEM-1", price_cents=2500)
    retry = admin.post(
        "/api/catalog/products",
        json={"sku": "IDEM-1", "name": "Product IDEM-1", "price_cents": 2500, "currency": "EUR", "stock": 5},
    )
    assert retry.status_code == 200 and retry.get_json()["id"] == created["id"]
    clash = admin.post(
        "/api/catalog/products", json={"sku": "IDEM-1", "name": "Other", "price_cents": 1, "currency": "EUR"}
    )
    assert clash.status_code == 409


def test_detail_is_cached_and_admin_update_invalidates(
    admin: ContractClient, api: ContractClient, catalog_app: Flask, deps: LocalDeps
):
    product = make_product(admin, "CACHE-1", price_cents=1999)
    deps.wait_replica_caught_up()

    def hits() -> float:
        return sum(metric(catalog_app, "peakshop_cache_requests_total", result=r) for r in ("hit", "local_hit"))

    hits_before = hits()
    assert api.get(f"/api/catalog/products/{product['id']}").get_json()["price_cents"] == 1999
    assert api.get(f"/api/catalog/products/{product['id']}").get_json()["price_cents"] == 1999
    assert hits() == hits_before + 1

    patched = admin.patch(f"/api/catalog/products/{product['id']}", json={"price_cents": 1499, "stock": 0})
    assert patched.status_code == 200 and patched.get_json()["price_cents"] == 1499
    deps.wait_replica_caught_up()
    fresh = api.get(f"/api/catalog/products/{product['id']}").get_json()
    assert (fresh["price_cents"], fresh["stock"], fresh["in_stock"]) == (1499, 0, False)


def test_deactivated_product_disappears(admin: ContractClient, api: ContractClient, deps: LocalDeps):
    product = make_product(admin, "GONE-1")
    assert admin.patch(f"/api/catalog/products/{product['id']}", json={"active": False}).status_code == 200
    deps.wait_replica_caught_up()
    assert api.get(f"/api/catalog/products/{product['id']}").status_code == 404
    skus = [p["sku"] for p in api.get("/api/catalog/products?q=GONE&page_size=100").get_json()["items"]]
    assert "GONE-1" not in skus


def test_list_filters_sorts_and_paginates(admin: ContractClient, api: ContractClient, deps: LocalDeps):
    admin.post("/api/catalog/categories", json={"slug": "stoves", "name": "Stoves"})
    prices = [300, 100, 500, 200, 400]
    for i, price in enumerate(prices):
        make_product(
            admin,
            f"STOVE-{i}",
            name=f"Stove {chr(65 + i)}",
            price_cents=price,
            category="stoves",
            stock=0 if i == 0 else 3,
        )
    make_product(admin, "LAMP-1", name="Lamp", price_cents=150)
    deps.wait_replica_caught_up()

    by_price = api.get("/api/catalog/products?category=stoves&sort=price").get_json()
    assert [p["price_cents"] for p in by_price["items"]] == sorted(prices) and by_price["total"] == 5
    desc = api.get("/api/catalog/products?category=stoves&sort=-price&page_size=2&page=2").get_json()
    assert [p["price_cents"] for p in desc["items"]] == [300, 200] and desc["total"] == 5
    ranged = api.get("/api/catalog/products?category=stoves&min_price=200&max_price=400&sort=price").get_json()
    assert [p["price_cents"] for p in ranged["items"]] == [200, 300, 400]
    in_stock = api.get("/api/catalog/products?category=stoves&in_stock=true").get_json()
    assert "STOVE-0" not in [p["sku"] for p in in_stock["items"]] and in_stock["total"] == 4
    named = api.get("/api/catalog/products?category=stoves&sort=-name").get_json()
    assert [p["name"] for p in named["items"]] == sorted((p["name"] for p in named["items"]), reverse=True)


def test_search_by_name_is_case_insensitive_and_treats_wildcards_literally(
    admin: ContractClient, api: ContractClient, deps: LocalDeps
):
    make_product(admin, "SRCH-1", name="Ultralight Sleeping Bag")
    make_product(admin, "SRCH-2", name="100% Wool Socks")
    deps.wait_replica_caught_up()
    hits = api.get("/api/catalog/products?q=sleeping").get_json()["items"]
    assert [p["sku"] for p in hits] == ["SRCH-1"]
    percent = api.get("/api/catalog/products", query_string={"q": "%"}).get_json()["items"]
    assert [p["sku"] for p in percent] == ["SRCH-2"]
    underscore = api.get("/api/catalog/products", query_string={"q": "_"}).get_json()
    assert underscore["total"] == 0


def test_new_product_appears_in_cached_list(admin: ContractClient, api: ContractClient, deps: LocalDeps):
    make_product(admin, "LIST-1", name="Listcache One")
    deps.wait_replica_caught_up()
    assert api.get("/api/catalog/products?q=Listcache").get_json()["total"] == 1
    make_product(admin, "LIST-2", name="Listcache Two")
    deps.wait_replica_caught_up()
    assert api.get("/api/catalog/products?q=Listcache").get_json()["total"] == 2


def test_client_reads_its_own_write_from_the_writer_even_when_the_replica_is_behind(
    admin: ContractClient, catalog_app: Flask, healthy_deps: LocalDeps
):
    healthy_deps.set_replica_delay(30)
    created = make_product(admin, "RYW-1")
    writer_reads = metric(catalog_app, "peakshop_db_route_total", target="writer", reason="read_your_writes")
    seen = admin.get(f"/api/catalog/products/{created['id']}")  # same client: carries the peakshop_rw cookie
    assert seen.status_code == 200 and seen.get_json()["sku"] == "RYW-1"
    assert metric(catalog_app, "peakshop_db_route_total", target="writer", reason="read_your_writes") > writer_reads


def test_openapi_document_is_served(api: ContractClient):
    doc = api.get("/api/catalog/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1") and "/api/catalog/products/{product_id}" in doc["paths"]
