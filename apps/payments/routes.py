"""Payments HTTP API under /api/payments: the browser's hosted-fields session (card data then goes to the
provider only) and an order's payment status. Tokens and provider references never leave this service."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify

from apps.payments.ledger import Ledger
from apps.payments.provider import PaymentProvider
from apps.runtime.factory import Service
from apps.runtime.problems import not_found
from apps.runtime.validation import json_body

ORDER_ID = re.compile(r"[0-9a-f]{32}")


def payment_json(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: row[k] for k in ("order_id", "amount_cents", "currency", "card_last4", "status")}
    out["amount_cents"] = int(out["amount_cents"])
    out["decline_code"] = row["decline_code"] or None
    out["updated_at"] = row["updated_at"].isoformat() + "Z" if isinstance(row["updated_at"], datetime) else None
    return out


def build_routes(svc: Service) -> Blueprint:
    bp = Blueprint("payments", __name__)
    ledger: Ledger = svc.extras["ledger"]
    provider: PaymentProvider = svc.extras["provider"]

    @bp.post("/sessions")
    def create_session() -> tuple[Response, int]:
        data = svc.validate("SessionRequest", json_body())
        session = provider.client_session(data["cart_id"], svc.settings.return_url)
        return jsonify(
            mode=session.mode, publishable_key=session.publishable_key, redirect_url=session.redirect_url
        ), 201

    @bp.get("/orders/<order_id>")
    def payment(order_id: str) -> Response:
        if not ORDER_ID.fullmatch(order_id):
            raise not_found("payment")
        row = ledger.get(order_id) or ledger.get(order_id, fresh=True)
        if row is None:
            raise not_found("payment")
        return jsonify(payment_json(row))

    return bp
