"""Malformed and hostile sign-up/sign-in/address bodies: 4xx problems, no account rows written."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from flask import Flask

from apps.localdeps import LocalDeps
from apps.testing import ContractClient


def account_rows(deps: LocalDeps, app: Flask) -> int:
    db = app.extensions["peakshop"].settings.db_writer_url.database
    return int(deps.writer.query(f"SELECT COUNT(*) AS n FROM `{db}`.accounts")[0]["n"])  # type: ignore[union-attr]


GOOD = {"email": "valid@example.org", "password": "long enough password", "name": "Valid"}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("{", 400),
        (json.dumps({**GOOD, "email": "not-an-email"}), 422),
        (json.dumps({**GOOD, "email": "a@b"}), 422),
        (json.dumps({**GOOD, "email": "o'reilly'--+x@example.org"}), 201),  # quotes are legal: stored as text
        (json.dumps({**GOOD, "email": "' OR 1=1 --"}), 422),
        (json.dumps({**GOOD, "password": "short"}), 422),
        (json.dumps({**GOOD, "password": "p" * 129}), 422),
        (json.dumps({**GOOD, "name": ""}), 422),
        (json.dumps({**GOOD, "name": 42}), 422),
        (json.dumps({**GOOD, "name": "bell\u0007"}), 422),
        ('{"email": "u@example.org", "password": "long enough password", "name": "\\udfff"}', 422),
        (json.dumps({**GOOD, "admin": True}), 422),
        (json.dumps({"email": "valid@example.org"}), 422),
    ],
)
def test_bad_signups_write_nothing(api: ContractClient, accounts_app: Flask, deps: LocalDeps, body: str, status: int):
    before = account_rows(deps, accounts_app)
    resp = api.post("/api/accounts/signup", data=body, content_type="application/json")
    assert resp.status_code == status, resp.get_json()
    assert account_rows(deps, accounts_app) == before + (1 if status == 201 else 0)


def test_unicode_name_round_trips(signed_up: Callable):
    client, _ = signed_up(name="李小龍 🐉 Zoë O'Brien-Ñúñez")
    assert client.get("/api/accounts/me").get_json()["name"] == "李小龍 🐉 Zoë O'Brien-Ñúñez"


def test_bad_addresses_and_consents_are_422(signed_up: Callable):
    client, _ = signed_up()
    good = {"name": "A", "line1": "B", "city": "C", "postal_code": "D", "country": "GB"}
    for body in (
        {**good, "country": "gb"},
        {**good, "country": "GBR"},
        {**good, "line1": ""},
        {**good, "line1": "x" * 201},
        {k: v for k, v in good.items() if k != "city"},
        [good],
    ):
        assert client.post("/api/accounts/me/addresses", json=body).status_code == 422
    assert client.get("/api/accounts/me/addresses").get_json()["items"] == []
    for body in (
        {"purpose": "selling_data", "granted": True, "policy_version": "1"},
        {"purpose": "analytics", "granted": "yes", "policy_version": "1"},
        {"purpose": "analytics", "granted": True, "policy_version": "1; DROP TABLE consents"},
    ):
        assert client.post("/api/accounts/me/consents", json=body).status_code == 422
    assert client.get("/api/accounts/me/consents").get_json()["history"] == []


def test_oversized_signup_is_413(api: ContractClient, accounts_app: Flask, deps: LocalDeps):
    before = account_rows(deps, accounts_app)
    body = json.dumps({**GOOD, "name": "n" * 100_000})
    assert api.post("/api/accounts/signup", data=body, content_type="application/json").status_code == 413
    assert account_rows(deps, accounts_app) == before
