"""After GDPR erasure, a session token that has not expired yet can no longer create or fill a cart."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from apps.cart import repository as repo
from apps.cart.tests.test_cart import new_cart
from apps.testing import ContractClient


def test_an_erased_accounts_session_can_no_longer_create_or_merge_carts(
    api: ContractClient, session_for: Callable[..., ContractClient], cart_app: Flask, product: Callable[..., int]
):
    shopper = session_for(4301)
    pid = product()
    account_cart = shopper.post("/api/cart/carts").get_json()["id"]
    anonymous = new_cart(api)
    api.put(f"/api/cart/carts/{anonymous}/items/{pid}", json={"quantity": 2})

    db = cart_app.extensions["peakshop"].db
    assert repo.erase_account(db, 4301) == account_cart  # what the privacy worker runs
    assert repo.erase_account(db, 4301) is None  # a redelivered request changes nothing more

    for resp in (shopper.post("/api/cart/carts"), shopper.post(f"/api/cart/carts/{anonymous}/merge")):
        assert resp.status_code == 401 and resp.get_json()["type"].endswith("/account-erased")
    assert shopper.get(f"/api/cart/carts/{account_cart}").status_code == 404
    assert api.get(f"/api/cart/carts/{anonymous}").get_json()["item_count"] == 2  # nothing moved
    assert session_for(4302).post("/api/cart/carts").status_code == 201  # other accounts are unaffected
