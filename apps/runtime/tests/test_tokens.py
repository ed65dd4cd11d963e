from __future__ import annotations

import secrets

import pytest

from apps.runtime import tokens


def test_issue_verify_expire_and_tamper():
    seed = secrets.token_bytes(32)
    key = tokens.private_key(seed)
    public = tokens.public_key(tokens.public_bytes_of(seed))
    token, exp = tokens.issue(key, "42", 60, now=1_000)
    assert tokens.verify(public, token, now=1_030)["sub"] == "42" and exp == 1_060
    with pytest.raises(tokens.InvalidToken, match="expired"):
        tokens.verify(public, token, now=1_060)
    _payload, sig = token.split(".")
    other, _ = tokens.issue(key, "43", 60, now=1_000)
    with pytest.raises(tokens.InvalidToken):
        tokens.verify(public, f"{other.split('.')[0]}.{sig}", now=1_030)  # swapped claims, old signature
    with pytest.raises(tokens.InvalidToken):
        tokens.verify(tokens.public_key(tokens.public_bytes_of(secrets.token_bytes(32))), token, now=1_030)
    for junk in ("", "a.b.c", "no-dot", "%%%.%%%"):
        with pytest.raises(tokens.InvalidToken):
            tokens.verify(public, junk)
