"""boto3 clients for the runbooks: one session, standard retry mode (throttling is retried with back-off by
botocore, bounded by --max-attempts), and an optional endpoint (moto's server in tests, a VPC endpoint)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded", "TooManyRequestsException"}
)


@dataclass
class Aws:
    endpoint_url: str | None = None
    max_attempts: int = 5
    profile: str | None = None
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict)

    def session(self) -> boto3.session.Session:
        return boto3.session.Session(profile_name=self.profile)

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            session = self.session()
            config = Config(retries={"mode": "standard", "total_max_attempts": self.max_attempts}, connect_timeout=5)
            self._clients[key] = session.client(
                service, region_name=region, endpoint_url=self.endpoint_url, config=config
            )
        return self._clients[key]


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "ClientError"))
    return type(exc).__name__


def describe_error(exc: BaseException) -> str:
    """One line for the report: the AWS error code and message, and whether retries were exhausted."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = err.get("Code", "ClientError")
        attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
        suffix = f" (gave up after {attempts + 1} attempts)" if code in THROTTLING_CODES else ""
        return f"{code}: {err.get('Message', '')}{suffix}"
    if isinstance(exc, BotoCoreError):
        return f"{type(exc).__name__}: {exc}"
    return f"{type(exc).__name__}: {exc}"


AWS_ERRORS = (ClientError, BotoCoreError)
