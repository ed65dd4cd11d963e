"""`cache flush --prefix`: delete the Redis keys under one prefix (SCAN + UNLINK in batches, never FLUSHALL,
never KEYS), e.g. after a bad catalog import. ElastiCache has no API for this, so the command connects to
the replication group's primary endpoint with TLS and an IAM auth token for the app's RBAC user (the data
stack turns IAM auth on), or to --redis-url."""

from __future__ import annotations

from typing import Any

import redis

from apps.runtime.redis_iam import IamAuthError, IamCredentials
from ops.aws import Aws
from ops.names import RegionNames
from ops.runbook import Planned, Precondition, Runbook, check_first, run_plan

BATCH = 500


def iam_auth_token(aws: Aws, region: RegionNames) -> str:
    """The ElastiCache IAM auth token for the RBAC user, signed as the services sign theirs."""
    try:
        return IamCredentials(region.redis_user, region.redis_group, aws.session(), region=region.region).token()
    except IamAuthError as exc:
        raise Precondition(str(exc)) from None


def escape_glob(text: str) -> str:
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


def flush(aws: Aws, region: RegionNames, book: Runbook, prefix: str, redis_url: str | None) -> None:
    holder: dict[str, Any] = {}
    pattern = escape_glob(prefix) + "*"

    def connect() -> dict[str, Any]:
        if redis_url:
            client = redis.Redis.from_url(redis_url, socket_timeout=5)
            where = redis_url.split("@")[-1]
        else:
            elasticache = aws.client("elasticache", region.region)
            group = elasticache.describe_replication_groups(ReplicationGroupId=region.redis_group)
            endpoint = group["ReplicationGroups"][0]["NodeGroups"][0]["PrimaryEndpoint"]
            where = f"{endpoint['Address']}:{endpoint['Port']}"
            client = redis.Redis(
                host=endpoint["Address"],
                port=int(endpoint["Port"]),
                username=region.redis_user,
                password=iam_auth_token(aws, region),
                ssl=True,
                socket_timeout=5,
            )
        try:
            matching = sum(1 for _ in client.scan_iter(match=pattern, count=BATCH))
        except redis.RedisError as exc:
            raise Precondition(f"cannot reach Redis at {where}: {exc}") from exc
        holder["client"] = client
        return {"redis": where, "pattern": pattern, "matching_keys": matching}

    def delete() -> dict[str, Any]:
        client: redis.Redis = holder["client"]
        deleted = 0
        batch: list[bytes] = []
        for key in client.scan_iter(match=pattern, count=BATCH):
            batch.append(key)
            if len(batch) >= BATCH:
                deleted += int(client.unlink(*batch))
                batch = []
        if batch:
            deleted += int(client.unlink(*batch))
        return {"deleted": deleted}

    if check_first(book, "connect-and-count", f"redis SCAN MATCH {pattern}", connect):
        run_plan(book, [Planned("unlink-keys", f"redis SCAN + UNLINK {pattern}", delete, "Re-run: it is idempotent.")])
