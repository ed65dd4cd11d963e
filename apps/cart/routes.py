"""Cart HTTP API under /api/cart. Cart views are cached in Redis and invalidated on every change; the
catalog is asked for price, name and stock whenever a line's quantity is set."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, jsonify, request

from apps.cart import repository as repo
from apps.cart.catalog_client import CatalogClient, CatalogUnavailable
from apps.runtime import tokens
from apps.runtime.factory import Service
from apps.runtime.problems import Problem, not_found, problem_response
from apps.runtime.validation import json_body

CART_ID = re.compile(r"[0-9a-f]{32}")
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{16,128}")
MAX_ID = 2**63 - 1


def view(cart: dict[str, Any]) -> dict[str, Any]:
    items = [{**i, "line_total_cents": i["quantity"] * i["unit_price_cents"]} for i in cart["items"]]
    return {
        "id": cart["id"],
        "signed_in": cart["account_id"] is not None,
        "items": items,
        "currency": cart["currency"] if items else None,
        "total_cents": sum(i["line_total_cents"] for i in items),
        "item_count": sum(i["quantity"] for i in items),
        "expires_at": cart["expires_at"].isoformat(),
        "account_id": cart["account_id"],
    }


def public(cart_view: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in cart_view.items() if k != "account_id"}


def build_routes(svc: Service) -> Blueprint:
    bp = Blueprint("cart", __name__)
    db, cache, s = svc.db, svc.cache, svc.settings
    catalog: CatalogClient = svc.extras["catalog"]
    session_key = tokens.public_key(s.session_public_key)
    ttl_s: int = s.cart_ttl_s

    def account_id() -> int | None:
        """The signed-in account from a Bearer session token; None for anonymous; 401 for a bad token."""
        token = tokens.bearer(request.headers.get("Authorization"))
        if token is None:
            if request.headers.get("Authorization"):
                raise Problem(401, "Unauthorized", "malformed Authorization header", "unauthorized")
            return None
        try:
            claims = tokens.verify(session_key, token)
        except tokens.InvalidToken as exc:
            raise Problem(401, "Unauthorized", f"session token rejected: {exc}", "unauthorized") from None
        if not claims["sub"].isdigit():
            raise Problem(401, "Unauthorized", "session token has no account", "unauthorized")
        return int(claims["sub"])

    @bp.errorhandler(repo.AccountErased)
    def erased_account(_: repo.AccountErased) -> Response:
        detail = "the account was erased: its sessions can no longer create carts"
        return problem_response(401, "Unauthorized", detail, "account-erased")

    def cart_key(cart_id: str) -> str:
        return cache.key("cart", cart_id)

    def load(cart_id: str) -> dict[str, Any] | None:
        cart = repo.load_cart(db, cart_id, ttl_s)
        return view(cart) if cart else None

    def visible_cart(cart_id: str) -> dict[str, Any]:
        """The cart if the caller may see it: anonymous carts by id, account carts only with that account."""
        if not CART_ID.fullmatch(cart_id):
            raise not_found("cart")
        caller = account_id()
        cart = cache.get_or_load(cart_key(cart_id), lambda: load(cart_id), ttl=min(300, ttl_s))
        if cart is None or (cart["account_id"] is not None and cart["account_id"] != caller):
            raise not_found("cart")
        return cart

    def reload(cart_id: str) -> dict[str, Any]:
        cache.invalidate(cart_key(cart_id))
        cart = load(cart_id)
        if cart is None:
            raise not_found("cart")
        return cart

    @bp.post("/carts")
    def create_cart() -> tuple[Response, int]:
        caller = account_id()
        key = request.headers.get("Idempotency-Key")
        if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
            raise Problem(400, "Invalid Idempotency-Key", "use 16-128 characters of [A-Za-z0-9_-]", "invalid-header")
        if caller is None:
            cart_id, created = repo.create_anonymous(db, key)
        else:
            cart_id, created = repo.get_or_create_for_account(db, caller)
        return jsonify(public(reload(cart_id))), 201 if created else 200

    @bp.post("/carts/<cart_id>/merge")
    def merge_cart(cart_id: str) -> Response:
        """Sign-in: the anonymous cart's lines move into the caller's account cart, which is returned."""
        caller = account_id()
        if caller is None:
            raise Problem(401, "Unauthorized", "merging a cart needs a session token", "unauthorized")
        if not CART_ID.fullmatch(cart_id):
            raise not_found("cart")
        try:
            merged = repo.merge_into_account(db, cart_id, caller, s.max_quantity, s.max_lines, ttl_s)
        except repo.CartConflict as exc:
            raise Problem(409, "Conflict", exc.detail, exc.slug) from None
        if merged is None:
            raise not_found("cart")
        cache.invalidate(cart_key(cart_id))
        return jsonify(public(reload(merged)))

    @bp.get("/carts/<cart_id>")
    def get_cart(cart_id: str) -> Response:
        return jsonify(public(visible_cart(cart_id)))

    @bp.put("/carts/<cart_id>/items/<int:product_id>")
    def set_item(cart_id: str, product_id: int) -> Response:
        visible_cart(cart_id)
        if not 1 <= product_id <= MAX_ID:
            raise not_found("product")
        body = svc.validate("SetQuantity", json_body())
        quantity = body["quantity"]
        if quantity > s.max_quantity:
            raise Problem(422, "Quantity limit", f"at most {s.max_quantity} of one product per cart", "quantity-limit")
        try:
            product = catalog.product(product_id)
        except CatalogUnavailable:
            problem = Problem(503, "Service Unavailable", "the catalog is unavailable, retry shortly", "dependency")
            problem.headers["Retry-After"] = "1"
            raise problem from None
        if product is None:
            raise Problem(422, "Unknown product", f"product {product_id} is not for sale", "unknown-product")
        if quantity > product["stock"]:
            raise Problem(409, "Insufficient stock", f"only {product['stock']} in stock", "insufficient-stock")
        snap = repo.Snapshot(product_id, product["name"], product["price_cents"], product["currency"])
        try:
            if not repo.set_quantity(db, cart_id, snap, quantity, s.max_lines, ttl_s):
                raise not_found("cart")
        except repo.CartConflict as exc:
            raise Problem(409, "Conflict", exc.detail, exc.slug) from None
        return jsonify(public(reload(cart_id)))

    @bp.delete("/carts/<cart_id>/items/<int:product_id>")
    def remove_item(cart_id: str, product_id: int) -> Response:
        visible_cart(cart_id)
        if not repo.remove_item(db, cart_id, min(product_id, MAX_ID), ttl_s):
            raise not_found("cart")
        return jsonify(public(reload(cart_id)))

    return bp
