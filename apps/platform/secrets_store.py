"""Generated local secrets (database passwords, admin tokens, session signing key), created on first use and
kept in <root>/secrets.json with mode 0600: never in code or config templates, stable across `make up` runs
so the persisted MariaDB data stays usable."""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path

from apps.runtime.tokens import public_bytes_of


class SecretStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._values: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}

    def get(self, name: str, nbytes: int = 24) -> str:
        """The secret `name` (hex of `nbytes` random bytes), generated and saved the first time it is asked for."""
        if name not in self._values:
            self._values[name] = secrets.token_hex(nbytes)
            self._save()
        return self._values[name]

    def key_b64(self, name: str, nbytes: int = 32) -> str:
        """Raw key material as base64 (the runtime's key_bytes settings)."""
        return base64.b64encode(bytes.fromhex(self.get(name, nbytes))).decode()

    def session_public_key_b64(self) -> str:
        return base64.b64encode(public_bytes_of(bytes.fromhex(self.get("session_signing_seed", 32)))).decode()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(self._values, fh, indent=2, sort_keys=True)
        tmp.replace(self.path)
