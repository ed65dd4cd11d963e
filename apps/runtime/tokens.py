"""Signed, expiring session tokens. Accounts signs with an Ed25519 private key; every other service verifies
with the public key only, so a compromised cart pod cannot mint sessions."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class InvalidToken(ValueError):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def private_key(seed: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key(raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(raw)


def public_bytes_of(seed: bytes) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return private_key(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def issue(key: Ed25519PrivateKey, subject: str, ttl_s: int, now: float | None = None) -> tuple[str, int]:
    issued = int(now if now is not None else time.time())
    claims = {"sub": subject, "iat": issued, "exp": issued + ttl_s}
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    return f"{payload}.{_b64(key.sign(payload.encode()))}", claims["exp"]


def verify(key: Ed25519PublicKey, token: str, now: float | None = None) -> dict[str, Any]:
    try:
        payload, signature = token.split(".")
        key.verify(_unb64(signature), payload.encode())
        claims = json.loads(_unb64(payload))
    except (ValueError, InvalidSignature) as exc:
        raise InvalidToken("malformed or forged token") from exc
    if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int) or not isinstance(claims.get("sub"), str):
        raise InvalidToken("malformed claims")
    if claims["exp"] <= (now if now is not None else time.time()):
        raise InvalidToken("expired")
    return claims


def bearer(header: str | None) -> str | None:
    if header and header.startswith("Bearer ") and len(header) < 2048:
        return header[7:].strip()
    return None
