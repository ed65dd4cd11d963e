"""Redis without persistence: it is a cache here, as ElastiCache is in production."""

from __future__ import annotations

import redis

from apps.localdeps.process import ChildProcess, require_binary


class RedisServer(ChildProcess):
    name = "redis"

    def command(self) -> list[str]:
        return [
            require_binary("redis-server"),
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.workdir),
            "--maxmemory",
            "128mb",
            "--maxmemory-policy",
            "allkeys-lru",
        ]

    def is_ready(self) -> bool:
        return bool(redis.Redis(port=self.port, socket_timeout=0.5).ping())

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"
