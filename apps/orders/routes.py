"""Orders HTTP API under /api/orders. Checkout never answers 5xx because the writer is failing over: the
request is durably queued on SQS with its Idempotency-Key and answered 202 with a status URL; the orders
worker places it (same stock rules) once the writer is back."""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request
from prometheus_client import Counter

from apps.orders import repository as repo
from apps.orders.checkout import IDEMPOTENCY_KEY, CheckoutRequest, KeyReused, Rejection, place, validate_lines
from apps.runtime import tokens
from apps.runtime.cache import REDIS_ERRORS
from apps.runtime.db import DatabaseUnavailable
from apps.runtime.factory import Service
from apps.runtime.problems import Problem, not_found
from apps.runtime.validation import int_arg, json_body
from apps.workers import schema
from apps.workers.celery_app import send

log = logging.getLogger("peakshop.orders")
ORDER_ID_LEN = 32


def iso(value: Any) -> str:
    return value.isoformat(timespec="milliseconds") + "Z" if isinstance(value, datetime) else str(value)


def order_json(order: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": order["id"],
        "status": order["status"],
        "reason": order["reason"] or None,
        "currency": order["currency"],
        "total_cents": int(order["total_cents"]),
        "card_last4": order["card_last4"],
        "lines": [
            {
                "product_id": int(li["product_id"]),
                "quantity": int(li["quantity"]),
                "unit_price_cents": int(li["unit_price_cents"]),
            }
            for li in order["lines"]
        ],
        "created_at": iso(order["created_at"]),
        "updated_at": iso(order["updated_at"]),
    }


def build_routes(svc: Service) -> Blueprint:
    bp = Blueprint("orders", __name__)
    db, cache, s = svc.db, svc.cache, svc.settings
    celery = svc.extras["celery"]
    public_key = tokens.public_key(s.session_public_key)
    catalog: str = s.catalog_schema
    deferred = Counter(
        "peakshop_checkouts_deferred",
        "Checkouts queued on SQS (202) because the writer was unreachable",
        ["service"],
        registry=svc.metrics.registry,
    ).labels(svc.name)

    def user() -> str | None:
        header = request.headers.get("Authorization")
        if header is None:
            return None
        token = tokens.bearer(header)
        try:
            return str(tokens.verify(public_key, token or "")["sub"])
        except tokens.InvalidToken as exc:
            problem = Problem(401, "Unauthorized", f"invalid session token: {exc}", "unauthorized")
            problem.headers["WWW-Authenticate"] = 'Bearer realm="peakshop"'
            raise problem from None

    def required_user() -> str:
        uid = user()
        if uid is None:
            problem = Problem(401, "Unauthorized", "sign in to list your orders", "unauthorized")
            problem.headers["WWW-Authenticate"] = 'Bearer realm="peakshop"'
            raise problem
        return uid

    def scope_of(uid: str | None) -> str:
        return f"user:{uid}" if uid else "anon"

    def deferred_key(scope: str, key: str) -> str:
        return cache.key("deferred", hashlib.sha256(f"{scope}\0{key}".encode()).hexdigest()[:40])

    def status_url(key: str) -> str:
        return f"/api/orders/checkouts/{key}"

    def accept_deferred(req: CheckoutRequest) -> tuple[Response, int]:
        """Writer unreachable: queue the request on SQS (durable) and answer 202 with a status URL."""
        task_id = "checkout-" + hashlib.sha256(f"{req.scope}\0{req.key}".encode()).hexdigest()[:32]
        try:
            send(celery, schema.PLACE_ORDER, schema.CURRENT[schema.PLACE_ORDER], req.to_message(), task_id)
        except Exception:
            log.exception("could not queue a deferred checkout")
            raise DatabaseUnavailable("writer and queue both unavailable") from None
        try:
            cache.client.set(deferred_key(req.scope, req.key), b"1", ex=s.deferred_ttl_s)
        except REDIS_ERRORS:
            log.warning("could not remember a deferred checkout in Redis; its status URL answers 202 until placed")
        deferred.inc()
        resp = jsonify(status="accepted", idempotency_key=req.key, status_url=status_url(req.key))
        resp.headers["Location"] = status_url(req.key)
        resp.headers["Retry-After"] = "2"
        return resp, 202

    def load_visible(order_id: str, uid: str | None) -> dict[str, Any]:
        if len(order_id) != ORDER_ID_LEN or not all(c in "0123456789abcdef" for c in order_id):
            raise not_found("order")
        order = repo.get_order(db, order_id) or repo.get_order(db, order_id, fresh=True)
        # Orders of a signed-in user are theirs only; anonymous orders are reachable by their unguessable ID.
        if order is None or (order["user_id"] is not None and order["user_id"] != uid):
            raise not_found("order")
        return order

    @bp.post("/checkout")
    def checkout() -> tuple[Response, int]:
        key = request.headers.get("Idempotency-Key", "")
        if not IDEMPOTENCY_KEY.fullmatch(key):
            raise Problem(
                400,
                "Idempotency-Key required",
                "send an Idempotency-Key header of 8-64 characters [A-Za-z0-9_.:-], the same on every retry",
                "idempotency-key",
            )
        uid = user()
        body = svc.validate("CheckoutRequest", json_body())
        req = CheckoutRequest(scope_of(uid), key, uid, body)
        try:
            validate_lines(body)
            order, created = db.write(lambda cur: place(cur, catalog, req))
        except KeyReused:
            raise Problem(
                422,
                "Idempotency-Key reused",
                "this Idempotency-Key was used with a different request body",
                "idempotency-key-reused",
            ) from None
        except Rejection as r:
            raise Problem(
                r.status, r.reason.replace("_", " ").capitalize(), r.detail, r.reason.replace("_", "-"), **r.extensions
            ) from None
        except DatabaseUnavailable:
            return accept_deferred(req)
        resp = jsonify(order_json(order))
        resp.headers["Location"] = f"/api/orders/orders/{order['id']}"
        if not created:
            resp.headers["Idempotent-Replayed"] = "true"
        return resp, 201

    @bp.get("/checkouts/<key>")
    def checkout_status(key: str) -> tuple[Response, int]:
        if not IDEMPOTENCY_KEY.fullmatch(key):
            raise not_found("checkout")
        scope = scope_of(user())
        try:
            order = repo.order_for_checkout(db, scope, key) or repo.order_for_checkout(db, scope, key, fresh=True)
        except DatabaseUnavailable:
            order = None  # writer failing over: the marker below still tells accepted from unknown
        if order is not None:
            return jsonify(order_json(order)), 200
        try:
            known = cache.client.exists(deferred_key(scope, key))
        except REDIS_ERRORS:
            known = True  # cannot tell: do not claim a queued checkout is lost
        if not known:
            raise not_found("checkout")
        return jsonify(status="accepted", idempotency_key=key, status_url=status_url(key)), 202

    @bp.get("/orders/<order_id>")
    def get_order(order_id: str) -> Response:
        return jsonify(order_json(load_visible(order_id, user())))

    @bp.get("/orders")
    def list_orders() -> Response:
        uid = required_user()
        limit = int_arg("limit", 20, 1, 100) or 20
        rows = repo.list_orders(db, uid, limit)
        items = []
        for row in rows:
            full = repo.get_order(db, row["id"]) or repo.get_order(db, row["id"], fresh=True)
            if full is not None:
                items.append(order_json(full))
        return jsonify(items=items)

    @bp.post("/orders/<order_id>/fulfil")
    def fulfil(order_id: str) -> Response:
        header = request.headers.get("Authorization", "")
        given = header[7:] if header.startswith("Bearer ") else ""
        if not given or not hmac.compare_digest(given.encode(), s.admin_token.encode()):
            problem = Problem(401, "Unauthorized", "admin bearer token required", "unauthorized")
            problem.headers["WWW-Authenticate"] = 'Bearer realm="orders-admin"'
            raise problem
        if len(order_id) != ORDER_ID_LEN:
            raise not_found("order")
        before = repo.mark_fulfilled(db, order_id)
        if before is None:
            raise not_found("order")
        if before not in ("paid", "fulfilled"):
            raise Problem(409, "Illegal transition", f"a {before} order cannot be fulfilled", "illegal-transition")
        order = repo.get_order(db, order_id, fresh=True)
        assert order is not None
        return jsonify(order_json(order))

    return bp
