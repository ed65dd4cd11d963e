"""Redis clients for ElastiCache with IAM authentication (the data layer's user group is IAM-only).

The AUTH password is a SigV4-presigned `connect` request for the replication group, signed with the pod's
IRSA credentials and valid for 15 minutes: no Redis password exists anywhere. ElastiCache checks the token
only at AUTH, so redis-py asks for credentials on each new connection; a token is reused while it is younger
than REUSE_S, well inside its validity. Without a replication group the URL is used as it is (local Redis)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit, urlunsplit

import boto3
import redis
from botocore.model import ServiceId
from botocore.signers import RequestSigner
from redis.credentials import CredentialProvider

TOKEN_TTL_S = 900  # the longest ElastiCache accepts
REUSE_S = 600


class IamAuthError(RuntimeError):
    pass


class IamCredentials(CredentialProvider):
    def __init__(
        self,
        user_id: str,
        replication_group_id: str,
        session: boto3.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        region: str | None = None,
    ) -> None:
        self.user_id = user_id
        self.group = replication_group_id
        self.session = session or boto3.Session()
        self.region = region or self.session.region_name
        if not self.region:
            raise IamAuthError("ElastiCache IAM authentication needs a region (AWS_REGION)")
        self.clock = clock
        self._token = ""
        self._signed_at = float("-inf")
        self._lock = threading.Lock()

    def token(self) -> str:
        credentials = self.session.get_credentials()
        if credentials is None:
            raise IamAuthError("no AWS credentials to sign the ElastiCache IAM token (IRSA not configured?)")
        signer = RequestSigner(
            ServiceId("elasticache"), self.region, "elasticache", "v4", credentials, self.session.events
        )
        url = urlunsplit(("https", self.group, "/", urlencode({"Action": "connect", "User": self.user_id}), ""))
        signed = signer.generate_presigned_url(
            {"method": "GET", "url": url, "body": {}, "headers": {}, "context": {}},
            operation_name="connect",
            expires_in=TOKEN_TTL_S,
            region_name=self.region,
        )
        return signed.removeprefix("https://")

    def get_credentials(self) -> tuple[str, str]:
        with self._lock:
            if self.clock() - self._signed_at >= REUSE_S:
                self._token, self._signed_at = self.token(), self.clock()
            return self.user_id, self._token


def connect(url: str, timeout_s: float, replication_group_id: str = "") -> redis.Redis:
    """A client for `url`; with a replication group, the URL's user authenticates with IAM tokens."""
    options = {"socket_timeout": timeout_s, "socket_connect_timeout": timeout_s, "health_check_interval": 0}
    if not replication_group_id:
        return redis.Redis.from_url(url, **options)
    parts = urlsplit(url)
    if not parts.username or parts.password:
        raise IamAuthError("with REDIS_IAM_GROUP, REDIS_URL names the ElastiCache user and no password")
    host = parts.netloc.rsplit("@", 1)[1]
    bare = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    provider = IamCredentials(parts.username, replication_group_id)
    return redis.Redis.from_url(bare, credential_provider=provider, **options)
