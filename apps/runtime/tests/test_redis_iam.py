"""ElastiCache IAM authentication against a real Redis: an ACL user whose password is the token the provider
signs stands in for ElastiCache (which verifies the signature instead). Proves the token's shape, that the
client authenticates as the URL's user with it, reuses it, renews it, and refuses bad configuration."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import redis

from apps.localdeps import LocalDeps
from apps.runtime.redis_iam import REUSE_S, TOKEN_TTL_S, IamAuthError, IamCredentials, connect

GROUP = "peakshop-dev-p-redis"
SESSION = boto3.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret", region_name="us-east-1")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def acl_user(deps: LocalDeps) -> Iterator[str]:
    user = f"app-{secrets.token_hex(3)}"
    yield user
    redis.Redis.from_url(deps.endpoints.redis_url).acl_deluser(user)


def test_the_token_is_a_presigned_connect_request_for_the_group() -> None:
    token = IamCredentials("peakshop-dev-p-app", GROUP, SESSION).token()
    parts = urlsplit(f"https://{token}")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.hostname == GROUP and parts.path == "/"
    assert query["Action"] == "connect" and query["User"] == "peakshop-dev-p-app"
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256" and query["X-Amz-Expires"] == str(TOKEN_TTL_S)
    assert query["X-Amz-Credential"].startswith("AKIDEXAMPLE/") and query["X-Amz-Credential"].endswith(
        "/us-east-1/elasticache/aws4_request"
    )
    assert len(query["X-Amz-Signature"]) == 64


def test_a_token_is_reused_then_renewed() -> None:
    clock = Clock()
    provider = IamCredentials("u", GROUP, SESSION, clock=clock)
    first = provider.get_credentials()
    clock.now += REUSE_S - 1
    assert provider.get_credentials() == first
    clock.now += 2
    provider.token = lambda: "renewed"  # type: ignore[method-assign]  # stands for a later signing time
    assert provider.get_credentials() == ("u", "renewed")


def test_the_client_authenticates_as_the_url_user_with_the_token(deps: LocalDeps, acl_user: str, monkeypatch) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    url = deps.endpoints.redis_url.replace("redis://", f"redis://{acl_user}@")
    client = connect(url, 1.0, GROUP)
    provider = client.connection_pool.connection_kwargs["credential_provider"]
    user, token = provider.get_credentials()
    assert user == acl_user
    admin = redis.Redis.from_url(deps.endpoints.redis_url)
    admin.acl_setuser(acl_user, enabled=True, passwords=[f"+{token}"], keys=["*"], commands=["+@all"])
    assert client.ping() is True
    assert client.acl_whoami() == acl_user
    admin.acl_setuser(acl_user, reset_passwords=True, passwords=["+someone-else"], enabled=True)
    with pytest.raises(redis.AuthenticationError):
        connect(url, 1.0, GROUP).ping()  # a token for another secret is refused, as ElastiCache refuses it


def test_without_a_group_the_url_is_used_as_is(deps: LocalDeps) -> None:
    client = connect(deps.endpoints.redis_url, 1.0)
    assert "credential_provider" not in client.connection_pool.connection_kwargs and client.ping() is True


@pytest.mark.parametrize(
    ("url", "message"),
    [("redis://127.0.0.1:6379/0", "names the ElastiCache user"), ("redis://u:pw@127.0.0.1:6379/0", "no password")],
)
def test_bad_iam_configuration_is_refused(url: str, message: str, monkeypatch) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with pytest.raises(IamAuthError, match=message):
        connect(url, 1.0, GROUP)


def test_a_missing_region_is_refused(monkeypatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    with pytest.raises(IamAuthError, match="needs a region"):
        IamCredentials("u", GROUP, boto3.Session(aws_access_key_id="a", aws_secret_access_key="b", region_name=None))
