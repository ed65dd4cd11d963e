"""moto's standalone server, the local SQS and S3 endpoint (a real HTTP server, not an in-process mock), started
through moto_main.py for its cheaper SQS clock."""

from __future__ import annotations

import sys
import urllib.request
from pathlib import Path

from apps.localdeps.process import ChildProcess

# run as a script (it imports only moto, whatever the cwd); -P keeps this folder off sys.path
LAUNCHER = Path(__file__).with_name("moto_main.py")


class MotoServer(ChildProcess):
    name = "moto"

    def command(self) -> list[str]:
        return [sys.executable, "-P", str(LAUNCHER), "-H", "127.0.0.1", "-p", str(self.port)]

    def is_ready(self) -> bool:
        with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1) as resp:
            return bool(resp.status == 200)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
