"""Application-level encryption of personal data: AES-256-GCM with a key ring (the first key encrypts, every
key decrypts, so keys rotate without a big-bang re-encryption), and HMAC blind indexes for exact lookups
(email) without storing the plaintext. A database dump or replica snapshot alone reveals no PII."""

from __future__ import annotations

import hashlib
import hmac
import os
import unicodedata

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from apps.runtime.config import key_bytes


def parse_keyring(raw: str) -> dict[str, bytes]:
    """`kid:base64key[,kid:base64key...]`, first is active; each key is 32 bytes."""
    ring: dict[str, bytes] = {}
    for part in raw.split(","):
        kid, sep, material = part.strip().partition(":")
        if not sep or not kid.isalnum() or len(kid) > 16:
            raise ValueError("expected kid:base64key[,kid:base64key] with alphanumeric key ids")
        if kid in ring:
            raise ValueError(f"duplicate key id {kid!r}")
        ring[kid] = key_bytes(32)(material)
    return ring


def normalize_email(email: str) -> str:
    return unicodedata.normalize("NFC", email.strip()).lower()


class PiiCipher:
    def __init__(self, keyring: dict[str, bytes], blind_index_key: bytes) -> None:
        self.active = next(iter(keyring))
        self._aead = {kid: AESGCM(key) for kid, key in keyring.items()}
        self._blind = blind_index_key

    def encrypt(self, plaintext: str, column: str) -> bytes:
        """kid | 0x00 | nonce(12) | ciphertext; the column name is bound as associated data."""
        nonce = os.urandom(12)
        sealed = self._aead[self.active].encrypt(nonce, plaintext.encode(), column.encode())
        return self.active.encode() + b"\x00" + nonce + sealed

    def decrypt(self, blob: bytes, column: str) -> str:
        kid, _, rest = bytes(blob).partition(b"\x00")
        return self._aead[kid.decode()].decrypt(rest[:12], rest[12:], column.encode()).decode()

    def blind_index(self, value: str, purpose: str) -> bytes:
        return hmac.new(self._blind, f"{purpose}:{value}".encode(), hashlib.sha256).digest()
