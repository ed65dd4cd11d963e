"""moto's standalone server, the local SQS and S3 endpoint (a real HTTP server, not an in-process mock)."""

from __future__ import annotations

import sys
import urllib.request

from apps.localdeps.process import ChildProcess


class MotoServer(ChildProcess):
    name = "moto"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]

    def is_ready(self) -> bool:
        with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1) as resp:
            return bool(resp.status == 200)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
