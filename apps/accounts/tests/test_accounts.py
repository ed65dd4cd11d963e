"""Accounts against real MariaDB, Redis and moto's SQS: auth, addresses, consent, export, encrypted PII."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable

from flask import Flask

from apps.accounts.app import create_app
from apps.localdeps import LocalDeps
from apps.runtime import tokens
from apps.runtime.config import env_name
from apps.testing import ContractClient

ADDRESS = {"name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London", "postal_code": "SW1Y 4JH",
           "country": "GB"}  # fmt: skip


def raw_row(deps: LocalDeps, app: Flask, sql: str, *args: object) -> dict:
    db = app.extensions["peakshop"].settings.db_writer_url.database
    return deps.writer.query(sql.replace("{db}", f"`{db}`"), args)[0]  # type: ignore[union-attr]


def test_signup_is_idempotent_and_normalises_email(api: ContractClient):
    body = {"email": "Grace.Hopper@Example.org", "password": "cobol-forever-1959", "name": "Grace Hopper"}
    first = api.post("/api/accounts/signup", json=body)
    retry = api.post("/api/accounts/signup", json={**body, "email": "grace.hopper@example.org"})
    other_password = api.post("/api/accounts/signup", json={**body, "password": "somebody-else-entirely"})
    assert (first.status_code, retry.status_code, other_password.status_code) == (201, 200, 409)
    assert retry.get_json()["id"] == first.get_json()["id"]
    assert first.get_json()["email"] == "grace.hopper@example.org"


def test_signin_tokens_and_rejections(
    api: ContractClient, signed_up: Callable, accounts_app: Flask, accounts_env: dict[str, str]
):
    client, account = signed_up()
    assert client.get("/api/accounts/me").get_json()["id"] == account["id"]
    wrong = api.post("/api/accounts/signin", json={"email": account["email"], "password": "not the password"})
    unknown = api.post("/api/accounts/signin", json={"email": "nobody@example.org", "password": "whatever12345"})
    assert wrong.status_code == unknown.status_code == 401
    seed = base64.b64decode(accounts_env[env_name("accounts", "SIGNING_KEY")])
    expired, _ = tokens.issue(tokens.private_key(seed), str(account["id"]), -1)
    forged, _ = tokens.issue(tokens.private_key(secrets.token_bytes(32)), str(account["id"]), 600)
    for token in (expired, forged, "garbage", expired[:-2] + "AA"):
        assert api.get("/api/accounts/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert api.get("/api/accounts/me").status_code == 401


def test_pii_is_encrypted_at_rest_and_survives_key_rotation(
    signed_up: Callable, accounts_app: Flask, accounts_env: dict[str, str], deps: LocalDeps
):
    client, account = signed_up(name="Émilie du Châtelet")
    client.post("/api/accounts/me/addresses", json=ADDRESS)
    row = raw_row(deps, accounts_app, "SELECT email_enc, name_enc FROM {db}.accounts WHERE id = %s", account["id"])
    addr = raw_row(deps, accounts_app, "SELECT data_enc FROM {db}.addresses WHERE account_id = %s", account["id"])
    stored = bytes(row["email_enc"]) + bytes(row["name_enc"]) + bytes(addr["data_enc"])
    for plaintext in (account["email"], "Châtelet", "St James", "SW1Y"):
        assert plaintext.encode() not in stored

    old_ring = accounts_env[env_name("accounts", "PII_KEYS")]
    new_key = base64.b64encode(secrets.token_bytes(32)).decode()
    rotated = create_app({**accounts_env, env_name("accounts", "PII_KEYS"): f"k2:{new_key},{old_ring}"})
    rotated.extensions["peakshop"].cache.invalidate(rotated.extensions["peakshop"].cache.key("profile", account["id"]))
    token = client.default_headers["Authorization"]
    rotated_client = ContractClient(rotated, "accounts", {"Authorization": token})
    assert rotated_client.get("/api/accounts/me").get_json()["name"] == "Émilie du Châtelet"
    assert rotated_client.get("/api/accounts/me/addresses").get_json()["items"][0]["city"] == "London"


def test_addresses_idempotent_add_list_delete(signed_up: Callable):
    client, _ = signed_up()
    other, _ = signed_up()
    first = client.post("/api/accounts/me/addresses", json=ADDRESS)
    retry = client.post("/api/accounts/me/addresses", json=ADDRESS)
    assert (first.status_code, retry.status_code) == (201, 200) and first.get_json()["id"] == retry.get_json()["id"]
    second = client.post("/api/accounts/me/addresses", json={**ADDRESS, "line1": "1 Other Street"})
    assert len(client.get("/api/accounts/me/addresses").get_json()["items"]) == 2
    assert other.delete(f"/api/accounts/me/addresses/{first.get_json()['id']}").status_code == 404
    assert client.delete(f"/api/accounts/me/addresses/{first.get_json()['id']}").status_code == 204
    assert client.delete(f"/api/accounts/me/addresses/{first.get_json()['id']}").status_code == 404
    items = client.get("/api/accounts/me/addresses").get_json()["items"]
    assert [a["id"] for a in items] == [second.get_json()["id"]]


def test_consent_history_and_current_state(signed_up: Callable):
    client, _ = signed_up()
    client.post(
        "/api/accounts/me/consents", json={"purpose": "marketing_email", "granted": True, "policy_version": "2026-01"}
    )
    client.post(
        "/api/accounts/me/consents", json={"purpose": "analytics", "granted": True, "policy_version": "2026-01"}
    )
    client.post(
        "/api/accounts/me/consents", json={"purpose": "marketing_email", "granted": False, "policy_version": "2026-02"}
    )
    state = client.get("/api/accounts/me/consents").get_json()
    assert state["current"] == {"marketing_email": False, "analytics": True}
    assert [h["granted"] for h in state["history"]] == [True, True, False]


def test_export_contains_everything_held(signed_up: Callable):
    client, account = signed_up(name="Katherine Johnson")
    client.post("/api/accounts/me/addresses", json=ADDRESS)
    client.post("/api/accounts/me/consents", json={"purpose": "analytics", "granted": True, "policy_version": "1"})
    resp = client.get("/api/accounts/me/export")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    data = resp.get_json()
    assert data["account"]["email"] == account["email"] and data["account"]["name"] == "Katherine Johnson"
    assert data["addresses"][0]["postal_code"] == "SW1Y 4JH" and data["consents"][0]["purpose"] == "analytics"
