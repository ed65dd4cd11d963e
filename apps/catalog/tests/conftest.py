from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from flask import Flask

from apps.catalog.app import create_app
from apps.localdeps import LocalDeps
from apps.testing import ContractClient
from apps.testing import catalog_env as make_catalog_env


@pytest.fixture(scope="module")
def admin_token() -> str:
    return secrets.token_urlsafe(32)


@pytest.fixture(scope="module")
def catalog_env(deps: LocalDeps, admin_token: str) -> dict[str, str]:
    return make_catalog_env(deps, admin_token)


@pytest.fixture(scope="module")
def catalog_app(deps: LocalDeps, catalog_env: dict[str, str]) -> Iterator[Flask]:
    app = create_app(catalog_env)
    app.extensions["peakshop"].cache.client.flushdb()
    yield app
    app.extensions["peakshop"].db.close()


@pytest.fixture
def api(catalog_app: Flask) -> ContractClient:
    return ContractClient(catalog_app, "catalog")


@pytest.fixture
def admin(catalog_app: Flask, admin_token: str) -> ContractClient:
    return ContractClient(catalog_app, "catalog", {"Authorization": f"Bearer {admin_token}"})
