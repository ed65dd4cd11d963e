"""Accounts HTTP API under /api/accounts. Profiles are cached (short TTL) and the cache entry is deleted on
erasure together with the database rows, so no copy of the personal data outlives the request."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Blueprint, Response, jsonify, request

from apps.accounts import repository as repo
from apps.accounts.pii import PiiCipher, normalize_email
from apps.accounts.privacy_queue import PrivacyQueue
from apps.runtime import tokens
from apps.runtime.factory import Service
from apps.runtime.problems import Problem, not_found
from apps.runtime.validation import json_body

PROFILE_TTL_S = 60
MAX_ID = 2**63 - 1


def unauthorized(detail: str) -> Problem:
    problem = Problem(401, "Unauthorized", detail, "unauthorized")
    problem.headers["WWW-Authenticate"] = 'Bearer realm="accounts"'
    return problem


def build_routes(svc: Service) -> Blueprint:
    bp = Blueprint("accounts", __name__)
    db, cache, s = svc.db, svc.cache, svc.settings
    cipher: PiiCipher = svc.extras["cipher"]
    queue: PrivacyQueue = svc.extras["privacy_queue"]
    hasher = PasswordHasher(time_cost=s.argon2_time_cost, memory_cost=s.argon2_memory_kib, parallelism=1)
    signing_key = tokens.private_key(s.signing_key)
    verify_key = signing_key.public_key()
    dummy_hash = hasher.hash("not-a-real-password")  # equalises sign-in timing for unknown emails

    def profile_key(account_id: int) -> str:
        return cache.key("profile", account_id)

    def profile(row: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": row["id"],
            "email": cipher.decrypt(row["email_enc"], "email"),
            "name": cipher.decrypt(row["name_enc"], "name"),
            "created_at": row["created_at"].isoformat(),
        }

    def load_profile(account_id: int) -> dict[str, Any] | None:
        row = repo.get_account(db, account_id, fresh=True)
        return profile(row) if row and row["status"] == "active" else None

    def token_subject() -> int:
        token = tokens.bearer(request.headers.get("Authorization"))
        if token is None:
            raise unauthorized("session token required")
        try:
            claims = tokens.verify(verify_key, token)
        except tokens.InvalidToken as exc:
            raise unauthorized(f"session token rejected: {exc}") from None
        if not claims["sub"].isdigit():
            raise unauthorized("session token has no account")
        return int(claims["sub"])

    def signed_in() -> tuple[int, dict[str, Any]]:
        account_id = token_subject()
        found = cache.get_or_load(profile_key(account_id), lambda: load_profile(account_id), ttl=PROFILE_TTL_S)
        if found is None:
            raise unauthorized("account no longer exists")
        return account_id, found

    def address_view(row: dict[str, Any]) -> dict[str, Any]:
        return {"id": row["id"], **json.loads(cipher.decrypt(row["data_enc"], "address"))}

    def consent_view(row: dict[str, Any]) -> dict[str, Any]:
        return {**row, "granted": bool(row["granted"]), "recorded_at": row["recorded_at"].isoformat()}

    @bp.post("/signup")
    def signup() -> tuple[Response, int]:
        data = svc.validate("SignUp", json_body())
        email = normalize_email(data["email"])
        index = cipher.blind_index(email, "email")
        account_id = repo.create_account(
            db,
            index,
            cipher.encrypt(email, "email"),
            cipher.encrypt(data["name"], "name"),
            hasher.hash(data["password"]),
        )
        if account_id is not None:
            return jsonify(load_profile(account_id)), 201
        existing = repo.find_by_email_index(db, index)
        if existing and _password_ok(hasher, existing["password_hash"], data["password"]):
            return jsonify(profile(existing)), 200  # a retried sign-up converges on the same account
        raise Problem(409, "Conflict", "an account with this email already exists", "email-taken")

    @bp.post("/signin")
    def signin() -> Response:
        data = svc.validate("SignIn", json_body())
        row = repo.find_by_email_index(db, cipher.blind_index(normalize_email(data["email"]), "email"))
        if row is None or row["status"] != "active":
            _password_ok(hasher, dummy_hash, data["password"])
            raise unauthorized("email or password is wrong")
        if not _password_ok(hasher, row["password_hash"], data["password"]):
            raise unauthorized("email or password is wrong")
        if hasher.check_needs_rehash(row["password_hash"]):
            repo.update_password_hash(db, row["id"], hasher.hash(data["password"]))
        token, expires = tokens.issue(signing_key, str(row["id"]), s.session_ttl_s)
        return jsonify(token=token, expires_at=expires, account_id=row["id"])

    @bp.get("/me")
    def me() -> Response:
        return jsonify(signed_in()[1])

    @bp.get("/me/addresses")
    def addresses() -> Response:
        account_id, _ = signed_in()
        return jsonify(items=[address_view(r) for r in repo.list_addresses(db, account_id)])

    @bp.post("/me/addresses")
    def add_address() -> tuple[Response, int]:
        account_id, _ = signed_in()
        data = svc.validate("AddressInput", json_body())
        canonical = json.dumps(data, sort_keys=True, ensure_ascii=False)
        index = cipher.blind_index(f"{account_id}:{canonical}", "address")
        address_id, created = repo.add_address(
            db, account_id, index, cipher.encrypt(canonical, "address"), data["country"]
        )
        return jsonify(id=address_id, **data), 201 if created else 200

    @bp.delete("/me/addresses/<int:address_id>")
    def delete_address(address_id: int) -> tuple[str, int]:
        account_id, _ = signed_in()
        if address_id > MAX_ID or not repo.delete_address(db, account_id, address_id):
            raise not_found("address")
        return "", 204

    @bp.get("/me/consents")
    def consents() -> Response:
        account_id, _ = signed_in()
        history = [consent_view(r) for r in repo.consent_history(db, account_id)]
        current = {c["purpose"]: c["granted"] for c in history}  # later records override earlier ones
        return jsonify(current=current, history=history)

    @bp.post("/me/consents")
    def record_consent() -> tuple[Response, int]:
        account_id, _ = signed_in()
        data = svc.validate("ConsentInput", json_body())
        row = repo.record_consent(db, account_id, data["purpose"], data["granted"], data["policy_version"])
        return jsonify(consent_view(row)), 201

    @bp.get("/me/export")
    def export() -> Response:
        account_id, account = signed_in()
        body = {
            "account": account,
            "addresses": [address_view(r) for r in repo.list_addresses(db, account_id)],
            "consents": [consent_view(r) for r in repo.consent_history(db, account_id)],
            "exported_at": datetime.now(UTC).isoformat(),
        }
        resp = jsonify(body)
        resp.headers["Content-Disposition"] = f'attachment; filename="peakshop-account-{account_id}.json"'
        resp.headers["Cache-Control"] = "no-store"
        return resp

    @bp.delete("/me")
    def erase() -> tuple[Response, int]:
        account_id = token_subject()
        row = repo.get_account(db, account_id, fresh=True)
        if row is None:
            raise unauthorized("account no longer exists")
        request_id = repo.erase(db, account_id)  # idempotent: a retry returns the same request id
        cache.invalidate(profile_key(account_id))
        pending = repo.erasure_request(db, account_id)
        if pending and pending["sent_at"] is None and queue.send_erasure(pending):
            repo.mark_erasure_sent(db, request_id)
        return jsonify(status="erasure_requested", request_id=request_id), 202

    return bp


def _password_ok(hasher: PasswordHasher, stored: str | None, given: str) -> bool:
    if not stored:
        return False
    try:
        return bool(hasher.verify(stored, given))
    except (VerificationError, InvalidHashError):
        return False


def relay_erasures(svc: Service) -> int:
    """Send erasure requests whose SQS send failed earlier; returns how many were sent."""
    queue: PrivacyQueue = svc.extras["privacy_queue"]
    sent = 0
    for pending in repo.unsent_erasures(svc.db):
        if queue.send_erasure(pending):
            repo.mark_erasure_sent(svc.db, pending["id"])
            sent += 1
    return sent
