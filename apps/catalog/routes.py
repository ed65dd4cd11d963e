"""Catalog HTTP API under /api/catalog. Public reads are cache-aside over the replica; admin writes go to
the writer and then invalidate the product key and the list generation."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import Blueprint, Response, jsonify, request

from apps.catalog import repository as repo
from apps.catalog.media import MediaStore
from apps.runtime.factory import Service
from apps.runtime.problems import Problem, not_found
from apps.runtime.validation import int_arg, json_body, str_arg

MAX_ID = 2**63 - 1


def summary(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "sku": row["sku"],
        "name": row["name"],
        "brand": row["brand"],
        "category": row["category"],
        "price_cents": row["price_cents"],
        "currency": row["currency"],
        "in_stock": row["stock"] > 0,
    }


def build_routes(svc: Service) -> Blueprint:
    bp = Blueprint("catalog", __name__)
    cache, db = svc.cache, svc.db
    media_store: MediaStore = svc.extras["media"]
    admin_token: str = svc.settings.admin_token

    def require_admin() -> None:
        header = request.headers.get("Authorization", "")
        given = header[7:] if header.startswith("Bearer ") else ""
        if not given or not hmac.compare_digest(given.encode(), admin_token.encode()):
            problem = Problem(401, "Unauthorized", "admin bearer token required", "unauthorized")
            problem.headers["WWW-Authenticate"] = 'Bearer realm="catalog-admin"'
            raise problem

    def product_key(product_id: int) -> str:
        return cache.key("product", product_id)

    def load_detail(product_id: int, fresh: bool = False) -> dict[str, Any] | None:
        row = repo.get_product(db, product_id, fresh=fresh)
        if row is None or not row["active"]:
            return None
        media = [media_store.describe(m) for m in repo.product_media(db, product_id, fresh=fresh)]
        return {
            **summary(row),
            "description": row["description"],
            "stock": row["stock"],
            "active": bool(row["active"]),
            "updated_at": row["updated_at"].isoformat(),
            "media": media,
        }

    def invalidate_product(product_id: int) -> None:
        cache.invalidate(product_key(product_id))
        cache.bump("products")

    def checked_id(product_id: int) -> int:
        if not 1 <= product_id <= MAX_ID:
            raise not_found("product")
        return product_id

    # categories --------------------------------------------------------------------------------------------
    @bp.get("/categories")
    def categories() -> Response:
        key = cache.key("categories", cache.generation("categories", local=True))
        raw = cache.get_or_load_raw(key, lambda: {"items": repo.list_categories(db)}, local=True)
        return Response(raw, mimetype="application/json")

    @bp.post("/categories")
    def create_category() -> tuple[Response, int]:
        require_admin()
        data = svc.validate("CategoryCreate", json_body())
        row, created = repo.upsert_category(db, data["slug"], data["name"])
        if not created and row["name"] != data["name"]:
            raise Problem(409, "Conflict", f"category {data['slug']!r} exists with another name", "conflict")
        if created:
            cache.bump("categories")
        return jsonify(row), 201 if created else 200

    # products ----------------------------------------------------------------------------------------------
    @bp.get("/products")
    def list_products() -> Response:
        in_stock = str_arg("in_stock", 5, ("true", "false"))
        f = repo.ProductFilter(
            category=str_arg("category", 64),
            q=str_arg("q", 100),
            min_price=int_arg("min_price", None, 0, 10**9),
            max_price=int_arg("max_price", None, 0, 10**9),
            currency=str_arg("currency", 3),
            in_stock=None if in_stock is None else in_stock == "true",
            sort=str_arg("sort", 10, tuple(repo.SORTS)) or "name",
            page=int_arg("page", 1, 1, 10_000) or 1,
            page_size=int_arg("page_size", 20, 1, 100) or 20,
        )
        digest = hashlib.sha256(f.cache_part().encode()).hexdigest()[:32]
        key = cache.key("products", cache.generation("products", local=True), digest)

        def load() -> dict[str, Any]:
            rows, total = repo.list_products(db, f)
            return {"items": [summary(r) for r in rows], "page": f.page, "page_size": f.page_size, "total": total}

        return Response(cache.get_or_load_raw(key, load, local=True), mimetype="application/json")

    @bp.post("/products")
    def create_product() -> tuple[Response, int]:
        require_admin()
        data = svc.validate("ProductCreate", json_body())
        try:
            product_id, created = repo.create_product(db, data)
        except repo.UnknownCategory:
            raise Problem(
                422, "Unknown category", f"category {data['category']!r} does not exist", "unknown-category"
            ) from None
        detail = load_detail(product_id, fresh=True)
        if detail is None:
            raise Problem(409, "Conflict", f"SKU {data['sku']!r} belongs to an inactive product", "conflict")
        if not created:
            wanted = {"description": "", "stock": 0, "category": None, "brand": None, **data}
            if any(detail.get(k) != v for k, v in wanted.items()):
                raise Problem(409, "Conflict", f"SKU {data['sku']!r} exists with different data", "conflict")
            return jsonify(detail), 200
        invalidate_product(product_id)
        return jsonify(detail), 201

    @bp.get("/products/<int:product_id>")
    def product_detail(product_id: int) -> Response:
        product_id = checked_id(product_id)
        raw = cache.get_or_load_raw(product_key(product_id), lambda: load_detail(product_id), local=True)
        if raw is None:
            raise not_found("product")
        return Response(raw, mimetype="application/json")

    @bp.patch("/products/<int:product_id>")
    def update_product(product_id: int) -> Response:
        require_admin()
        product_id = checked_id(product_id)
        changes = svc.validate("ProductPatch", json_body())
        if not repo.update_product(db, product_id, changes):
            raise not_found("product")
        invalidate_product(product_id)
        row = repo.get_product(db, product_id, fresh=True)
        assert row is not None
        detail = load_detail(product_id, fresh=True) or {
            **summary(row),
            "description": row["description"],
            "stock": row["stock"],
            "active": False,
            "updated_at": row["updated_at"].isoformat(),
            "media": [],
        }
        return jsonify(detail)

    # media -------------------------------------------------------------------------------------------------
    @bp.post("/products/<int:product_id>/media")
    def create_media(product_id: int) -> tuple[Response, int]:
        require_admin()
        product_id = checked_id(product_id)
        data = svc.validate("MediaCreate", json_body())
        if repo.get_product(db, product_id, fresh=True) is None:
            raise not_found("product")
        key = media_store.object_key(product_id, data["filename"])
        media = repo.upsert_media(db, product_id, key, data["content_type"])
        upload = media_store.presigned_upload(key, media["content_type"])
        return jsonify(media=media_store.describe(media), upload=upload), 201

    @bp.post("/products/<int:product_id>/media/<int:media_id>/complete")
    def complete_media(product_id: int, media_id: int) -> Response:
        require_admin()
        product_id = checked_id(product_id)
        media = repo.get_media(db, product_id, checked_id(media_id))
        if media is None:
            raise not_found("media")
        if not media_store.uploaded(media["object_key"], media["content_type"]):
            raise Problem(409, "Upload missing", "the object has not been uploaded to S3 yet", "upload-missing")
        ready = repo.mark_media_ready(db, product_id, media["id"])
        assert ready is not None
        invalidate_product(product_id)
        return jsonify(media_store.describe(ready))

    return bp
