"""Property: whatever JSON arrives at the admin write endpoints, the answer is never a 5xx, every error is a
problem document (ContractClient checks), and a rejected request writes nothing."""

from __future__ import annotations

import json

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.localdeps import LocalDeps
from apps.testing import ContractClient

scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
product_like = st.fixed_dictionaries(
    {
        "sku": st.text(max_size=70),
        "name": st.text(max_size=210),
        "price_cents": scalars,
        "currency": st.text(max_size=4),
    },
    optional={"stock": scalars, "description": scalars, "category": scalars, "brand": scalars},
)


def products(deps: LocalDeps, app: Flask) -> int:
    db = app.extensions["peakshop"].settings.db_writer_url.database
    return int(deps.writer.query(f"SELECT COUNT(*) AS n FROM `{db}`.products")[0]["n"])  # type: ignore[union-attr]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values | product_like)
def test_arbitrary_product_bodies_never_5xx(admin: ContractClient, deps: LocalDeps, catalog_app: Flask, body: object):
    before = products(deps, catalog_app)
    resp = admin.post("/api/catalog/products", data=json.dumps(body), content_type="application/json")
    assert resp.status_code < 500, resp.get_json()
    if resp.status_code >= 400:
        assert products(deps, catalog_app) == before


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    query=st.dictionaries(
        st.sampled_from(
            ["q", "page", "page_size", "min_price", "max_price", "sort", "in_stock", "category", "currency"]
        ),
        st.text(max_size=40),
        max_size=5,
    )
)
def test_arbitrary_list_queries_never_5xx(api: ContractClient, query: dict[str, str]):
    assert api.get("/api/catalog/products", query_string=query).status_code in (200, 400)
