"""`secrets init`: give each application secret (stacks/workloads.py SECRETS, created without a value by the
data stack so that no value is ever in Terraform state) its first value, in the shape the services parse.

A secret that already has a current version is `kept`, never overwritten (only DescribeSecret is used to tell,
so the operator needs no read access to values). Each PutSecretValue carries a ClientRequestToken derived
from the secret's name: a retried call is idempotent, and a second run racing the first cannot add a second
version (AWS answers ResourceExistsException, reported as `kept`)."""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Callable
from typing import Any

from apps.runtime.tokens import public_bytes_of
from ops.aws import Aws
from ops.runbook import Planned, Precondition, Runbook, check_first, run_plan
from stacks.workloads import SECRETS, secret_name

DB_APP_USER = "peakshop_app"  # the MySQL user every service connects as (the `db` secret's username)
PII_KEY_ID = "k1"  # first key id of the accounts PII key ring (apps/accounts/pii.py parse_keyring)
TOKEN_CHARS = 48  # admin bearer tokens (apps/catalog, apps/orders require at least 32 characters)
PASSWORD_CHARS = 40
EXTERNAL = {"payments-provider": "issued by the payment provider; the fake provider (apps/payments) reads none"}
TOKEN_NAMESPACE = uuid.UUID("5d0c5f1e-2a43-4b8e-9a3f-6f1d2c7e8b90")  # fixed: tokens must not change between runs

Generator = Callable[[Callable[[int], str]], dict[str, str]]


def key32() -> str:
    """32 random bytes, standard base64 (apps/runtime/config.py key_bytes(32))."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


GENERATORS: dict[str, Generator] = {
    "db": lambda password: {"username": DB_APP_USER, "password": password(PASSWORD_CHARS)},
    "catalog-admin": lambda password: {"token": password(TOKEN_CHARS)},
    "orders-admin": lambda password: {"token": password(TOKEN_CHARS)},
    # Ed25519 seed, `kid:base64key` key ring (first key encrypts), HMAC key for the blind indexes.
    "accounts-keys": lambda _: {
        "signing_key": key32(),
        "pii_keys": f"{PII_KEY_ID}:{key32()}",
        "blind_index_key": key32(),
    },
}
if set(GENERATORS) | set(EXTERNAL) != set(SECRETS):  # pragma: no cover - edit-time guard
    raise ValueError("every secret in stacks/workloads.py SECRETS is generated here or named in EXTERNAL")


def request_token(name: str) -> str:
    """The ClientRequestToken of a secret's first value: the same on every run for the same secret."""
    return str(uuid.uuid5(TOKEN_NAMESPACE, f"{name}:initial"))


def session_public_key(signing_key: str) -> str:
    """The chart value pipeline.sessionPublicKey (not a secret) of an accounts signing key."""
    return base64.b64encode(public_bytes_of(base64.b64decode(signing_key))).decode()


def init(aws: Aws, stage: str, region: str, book: Runbook) -> None:
    client = aws.client("secretsmanager", region)
    states: dict[str, str] = {}
    book.result["secrets"] = states

    def inspect() -> dict[str, Any]:
        missing, deleted, detail = [], [], {}
        for short in SECRETS:
            name = secret_name(stage, short)
            try:
                described = client.describe_secret(SecretId=name)
            except client.exceptions.ResourceNotFoundException:
                missing.append(name)
                continue
            if described.get("DeletedDate"):
                deleted.append(name)
                continue
            current = any("AWSCURRENT" in s for s in described.get("VersionIdsToStages", {}).values())
            states[short] = "kept" if current else "external" if short in EXTERNAL else "missing-value"
            detail[short] = {
                "has_value": current,
                "replicas": {r["Region"]: r.get("Status", "?") for r in described.get("ReplicationStatus", [])},
            }
        if missing or deleted:
            problems = [f"{n} does not exist in {region}" for n in missing]
            problems += [
                f"{n} is scheduled for deletion (restore it: aws secretsmanager restore-secret)" for n in deleted
            ]
            raise Precondition(
                "; ".join(problems) + f". The {stage}-secondary-data stack creates the secrets: deploy it first."
            )
        return detail

    def password(length: int) -> str:
        answer = client.get_random_password(
            PasswordLength=length, ExcludePunctuation=True, RequireEachIncludedType=True
        )
        return str(answer["RandomPassword"])

    def put(short: str) -> Callable[[], dict[str, Any]]:
        def run() -> dict[str, Any]:
            values = GENERATORS[short](password)
            try:
                client.put_secret_value(
                    SecretId=secret_name(stage, short),
                    SecretString=json.dumps(values, separators=(",", ":"), sort_keys=True),
                    ClientRequestToken=request_token(secret_name(stage, short)),
                )
            except client.exceptions.ResourceExistsException:
                states[short] = "kept"  # a concurrent or earlier run already gave it its first value
                return {"status": "kept", "properties": sorted(values)}
            states[short] = "generated"
            if short == "accounts-keys":
                book.result["session_public_key"] = session_public_key(values["signing_key"])
            return {"status": "generated", "properties": sorted(values)}  # names only, never values

        return run

    if not check_first(book, "describe-secrets", f"secretsmanager:DescribeSecret {secret_name(stage, '*')}", inspect):
        return
    todo = [short for short, state in states.items() if state == "missing-value"]
    plan = [
        Planned(
            f"put-{short}",
            f"generate {', '.join(SECRETS[short])}; secretsmanager:PutSecretValue {secret_name(stage, short)}",
            put(short),
            "Re-run the same command: secrets that got a value are kept, the others are generated.",
        )
        for short in todo
    ]
    ok = run_plan(book, plan)
    if book.dry_run:
        states.update({short: "planned" for short in todo})
    if not ok:
        return
    for short, why in EXTERNAL.items():
        if states.get(short) == "external":
            book.next_actions.append(f"{secret_name(stage, short)} has no value: {why}; put it when one is configured.")
    if states.get("db") == "generated":
        book.next_actions.append(
            f"Create the MySQL user {DB_APP_USER} with the password in {secret_name(stage, 'db')} (ops/README.md)."
        )
    if "session_public_key" in book.result:
        book.next_actions.append("Set the charts' pipeline.sessionPublicKey to result.session_public_key.")
