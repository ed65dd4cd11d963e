"""`secrets init` end to end against moto's server: the secrets exist without a value (as the data stack
creates them); the command fills each in the shape the services parse, keeps what exists, plans only in a dry
run and stops, changing nothing, when a declared secret is missing."""

from __future__ import annotations

import base64
import json
from typing import Any

from apps.accounts.pii import parse_keyring
from apps.runtime.config import key_bytes
from apps.runtime.tokens import public_bytes_of
from ops.appsecrets import DB_APP_USER, request_token
from stacks.workloads import SECRETS, secret_name
from tests.ops.conftest import World

INIT = ("secrets", "init", "--stage", "dev")
GENERATED = {"db", "catalog-admin", "orders-admin", "accounts-keys"}


def values(world: World) -> dict[str, dict[str, Any] | None]:
    """Every secret's current value (None: no value yet)."""
    client = world.client("secretsmanager")
    out: dict[str, dict[str, Any] | None] = {}
    for short in SECRETS:
        versions = client.describe_secret(SecretId=secret_name("dev", short)).get("VersionIdsToStages", {})
        current = any("AWSCURRENT" in stages for stages in versions.values())
        out[short] = (
            json.loads(client.get_secret_value(SecretId=secret_name("dev", short))["SecretString"]) if current else None
        )
    return out


def test_init_generates_every_value_in_the_shape_the_services_parse(world: World) -> None:
    world.app_secrets()
    result = world.ops(*INIT)
    assert result.code == 0, (result.report, result.stderr)
    assert result.report["result"]["secrets"] == {
        **{s: "generated" for s in GENERATED},
        "payments-provider": "external",
    }
    stored = values(world)
    assert stored["payments-provider"] is None
    for short in GENERATED:
        assert set(stored[short] or {}) == set(SECRETS[short]), short
    db = stored["db"] or {}
    assert db["username"] == DB_APP_USER and len(db["password"]) == 40 and db["password"].isalnum()
    catalog, orders = stored["catalog-admin"] or {}, stored["orders-admin"] or {}
    assert len(catalog["token"]) >= 32 and len(orders["token"]) >= 32 and catalog["token"] != orders["token"]
    keys = stored["accounts-keys"] or {}
    seed = key_bytes(32)(keys["signing_key"])
    assert key_bytes(32)(keys["blind_index_key"]) != seed
    ring = parse_keyring(keys["pii_keys"])
    assert list(ring) == ["k1"] and len(ring["k1"]) == 32
    assert result.report["result"]["session_public_key"] == base64.b64encode(public_bytes_of(seed)).decode()
    # The version is the derived request token: a retried PutSecretValue could not add a second one.
    described = world.client("secretsmanager").describe_secret(SecretId=secret_name("dev", "db"))
    assert list(described["VersionIdsToStages"]) == [request_token(secret_name("dev", "db"))]
    # Values never appear in the report.
    text = json.dumps(result.report)
    assert db["password"] not in text and keys["signing_key"] not in text and catalog["token"] not in text
    assert any("peakshop_app" in a for a in result.report["next_actions"])


def test_second_run_keeps_every_value(world: World) -> None:
    world.app_secrets()
    assert world.ops(*INIT).code == 0
    before = values(world)
    again = world.ops(*INIT)
    assert again.code == 0, again.report
    assert again.report["result"]["secrets"] == {**{s: "kept" for s in GENERATED}, "payments-provider": "external"}
    assert [s["name"] for s in again.report["steps"]] == ["describe-secrets"]
    assert values(world) == before


def test_an_existing_value_is_never_overwritten(world: World) -> None:
    world.app_secrets()
    mine = {"token": "set-by-the-operator-" + "x" * 20}
    world.client("secretsmanager").put_secret_value(
        SecretId=secret_name("dev", "orders-admin"), SecretString=json.dumps(mine)
    )
    result = world.ops(*INIT)
    assert result.code == 0, result.report
    assert result.report["result"]["secrets"]["orders-admin"] == "kept"
    assert result.report["result"]["secrets"]["catalog-admin"] == "generated"
    assert values(world)["orders-admin"] == mine


def test_dry_run_changes_nothing(world: World) -> None:
    world.app_secrets()
    result = world.ops(*INIT, "--dry-run")
    assert result.code == 0 and result.report["outcome"] == "planned", result.report
    assert result.report["result"]["secrets"] == {**{s: "planned" for s in GENERATED}, "payments-provider": "external"}
    assert {s["name"]: s["status"] for s in result.report["steps"]} == {
        "describe-secrets": "done",
        **{f"put-{s}": "planned" for s in GENERATED},
    }
    assert all(v is None for v in values(world).values())


def test_a_missing_secret_stops_before_any_change(world: World) -> None:
    world.app_secrets(skip=("accounts-keys",))
    result = world.ops(*INIT)
    assert result.code == 1
    error = result.step("describe-secrets")["error"]
    assert "peakshop/dev/accounts-keys does not exist in us-east-1" in error and "dev-secondary-data" in error
    assert [s["name"] for s in result.report["steps"]] == ["describe-secrets"]
    assert "Nothing was changed" in result.report["next_actions"][0]
    client = world.client("secretsmanager")
    assert not client.describe_secret(SecretId=secret_name("dev", "db")).get("VersionIdsToStages")


def test_the_replica_region_gets_the_values(world: World) -> None:
    world.app_secrets()
    assert world.ops(*INIT).code == 0
    replica = world.client("secretsmanager", "secondary")
    primary = values(world)["catalog-admin"]
    assert json.loads(replica.get_secret_value(SecretId=secret_name("dev", "catalog-admin"))["SecretString"]) == primary
