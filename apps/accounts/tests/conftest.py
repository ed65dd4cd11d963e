from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from apps.accounts.app import create_app
from apps.localdeps import LocalDeps
from apps.testing import ContractClient, fresh_database, service_env


def b64key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture(scope="module")
def accounts_env(deps: LocalDeps) -> dict[str, str]:
    e = deps.endpoints
    return service_env(
        deps,
        "accounts",
        fresh_database(deps, "accounts"),
        SIGNING_KEY=b64key(),
        PII_KEYS=f"k1:{b64key()}",
        BLIND_INDEX_KEY=b64key(),
        PRIVACY_QUEUE_URL=e.queue_urls["privacy"],
        AWS_ENDPOINT_URL=e.aws_endpoint_url,
        AWS_REGION=e.aws_region,
        ARGON2_TIME_COST="1",
        ARGON2_MEMORY_KIB="8192",
    )


@pytest.fixture(scope="module")
def accounts_app(accounts_env: dict[str, str]) -> Iterator[Flask]:
    app = create_app(accounts_env)
    yield app
    app.extensions["peakshop"].db.close()


@pytest.fixture
def api(accounts_app: Flask) -> ContractClient:
    return ContractClient(accounts_app, "accounts")


@pytest.fixture
def signed_up(api: ContractClient, accounts_app: Flask) -> Callable[..., tuple[ContractClient, dict]]:
    """Sign up a fresh account and return a client carrying its session token, plus the account."""

    def make(name: str = "Ada Lovelace", password: str = "correct horse battery") -> tuple[ContractClient, dict]:
        email = f"user-{secrets.token_hex(4)}@example.org"
        created = api.post("/api/accounts/signup", json={"email": email, "password": password, "name": name})
        assert created.status_code == 201, created.get_json()
        session = api.post("/api/accounts/signin", json={"email": email, "password": password}).get_json()
        client = ContractClient(accounts_app, "accounts", {"Authorization": f"Bearer {session['token']}"})
        return client, {**created.get_json(), "password": password}

    return make
