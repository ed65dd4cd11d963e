"""GDPR erasure: personal data gone from MySQL and Redis at once, an erasure request on SQS (moto), retries
converge on the same request, and a queue outage is recovered by the relay."""

from __future__ import annotations

import json
from collections.abc import Callable

import boto3
from flask import Flask

from apps.accounts.routes import relay_erasures
from apps.localdeps import LocalDeps
from apps.testing import ContractClient


def erasure_messages(deps: LocalDeps) -> list[dict]:
    e = deps.endpoints
    sqs = boto3.client("sqs", endpoint_url=e.aws_endpoint_url, region_name=e.aws_region)
    found = []
    for _ in range(3):
        got = sqs.receive_message(QueueUrl=e.queue_urls["privacy"], MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for msg in got.get("Messages", []):
            found.append(json.loads(msg["Body"]))
            sqs.delete_message(QueueUrl=e.queue_urls["privacy"], ReceiptHandle=msg["ReceiptHandle"])
        if not got.get("Messages"):
            break
    return found


def test_erasure_removes_pii_everywhere_and_queues_request(
    signed_up: Callable, api: ContractClient, accounts_app: Flask, deps: LocalDeps
):
    client, account = signed_up(name="Hedy Lamarr")
    client.post(
        "/api/accounts/me/addresses",
        json={"name": "Hedy", "line1": "1 Film Row", "city": "Vienna", "postal_code": "1010", "country": "AT"},
    )
    client.post("/api/accounts/me/consents", json={"purpose": "analytics", "granted": True, "policy_version": "1"})
    assert client.get("/api/accounts/me").status_code == 200  # profile now cached in Redis
    svc = accounts_app.extensions["peakshop"]
    assert svc.cache.client.exists(svc.cache.key("profile", account["id"]))

    erased = client.delete("/api/accounts/me")
    assert erased.status_code == 202
    request_id = erased.get_json()["request_id"]
    assert client.delete("/api/accounts/me").get_json()["request_id"] == request_id  # retry converges

    db = svc.settings.db_writer_url.database
    row = deps.writer.query(f"SELECT * FROM `{db}`.accounts WHERE id = %s", (account["id"],))[0]
    assert row["status"] == "erased" and row["email_enc"] is None and row["name_enc"] is None
    assert row["email_index"] is None and row["password_hash"] is None
    assert (
        deps.writer.query(f"SELECT COUNT(*) AS n FROM `{db}`.addresses WHERE account_id = %s", (account["id"],))[0]["n"]
        == 0
    )
    assert not svc.cache.client.exists(svc.cache.key("profile", account["id"]))
    for key in svc.cache.client.scan_iter("accounts:*"):
        value = svc.cache.client.get(key) or b""
        assert account["email"].encode() not in value and b"Hedy" not in value

    assert client.get("/api/accounts/me").status_code == 401
    signin = api.post("/api/accounts/signin", json={"email": account["email"], "password": account["password"]})
    assert signin.status_code == 401
    messages = [m for m in erasure_messages(deps) if m["request_id"] == request_id]
    assert len(messages) == 1 and messages[0]["account_id"] == account["id"]
    assert messages[0]["type"] == "account.erasure_requested"
    again = api.post(
        "/api/accounts/signup", json={"email": account["email"], "password": "a fresh start!!", "name": "New person"}
    )
    assert again.status_code == 201 and again.get_json()["id"] != account["id"]


def test_queue_outage_leaves_request_in_outbox_until_relayed(signed_up: Callable, accounts_app: Flask, deps: LocalDeps):
    client, account = signed_up()
    queue = accounts_app.extensions["peakshop"].extras["privacy_queue"]
    real_endpoint = queue.endpoint_url
    queue.endpoint_url, queue._client = "http://127.0.0.1:9", None  # SQS unreachable
    try:
        erased = client.delete("/api/accounts/me")
    finally:
        queue.endpoint_url, queue._client = real_endpoint, None
    assert erased.status_code == 202  # erasure here does not wait for the queue
    request_id = erased.get_json()["request_id"]
    assert [m for m in erasure_messages(deps) if m["request_id"] == request_id] == []
    assert relay_erasures(accounts_app.extensions["peakshop"]) >= 1
    assert [m["account_id"] for m in erasure_messages(deps) if m["request_id"] == request_id] == [account["id"]]
    assert relay_erasures(accounts_app.extensions["peakshop"]) == 0
