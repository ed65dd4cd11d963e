"""Environment configuration `PEAKSHOP_<SERVICE>_<KEY>`, validated in full at start so a bad deploy fails
fast with a message naming every offending variable instead of failing on the first request."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit


class ConfigError(ValueError):
    """One or more settings are missing or invalid; the message names each variable."""


@dataclass(frozen=True)
class Setting:
    key: str
    parse: Callable[[str], Any]
    default: str | None = None  # None: required
    doc: str = ""
    secret: bool = False


@dataclass(frozen=True)
class MysqlUrl:
    host: str
    port: int
    user: str
    password: str
    database: str

    def __repr__(self) -> str:  # never print the password
        return f"MysqlUrl({self.user}@{self.host}:{self.port}/{self.database})"


# parsers: each raises ValueError with a short reason ------------------------------------------------------
def integer(lo: int, hi: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"expected an integer, got {raw!r}") from None
        if not lo <= value <= hi:
            raise ValueError(f"expected {lo}..{hi}, got {value}")
        return value

    return parse


def number(lo: float, hi: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"expected a number, got {raw!r}") from None
        if not lo <= value <= hi:
            raise ValueError(f"expected {lo}..{hi}, got {value}")
        return value

    return parse


def choice(*options: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in options:
            raise ValueError(f"expected one of {', '.join(options)}, got {raw!r}")
        return raw

    return parse


def text(min_len: int = 0) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if len(raw) < min_len:
            raise ValueError(f"expected at least {min_len} characters")
        return raw

    return parse


def http_url(raw: str) -> str:
    if raw == "":
        return raw
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("expected an http(s) URL")
    return raw.rstrip("/")


def mysql_url(raw: str) -> MysqlUrl | None:
    if raw == "":
        return None
    parts = urlsplit(raw)
    if parts.scheme != "mysql" or not parts.hostname or not parts.username or not parts.path.strip("/"):
        raise ValueError("expected mysql://user:password@host:port/database")
    return MysqlUrl(
        host=parts.hostname,
        port=parts.port or 3306,
        user=unquote(parts.username),
        password=unquote(parts.password or ""),
        database=parts.path.strip("/"),
    )


def redis_url(raw: str) -> str:
    if urlsplit(raw).scheme not in ("redis", "rediss"):
        raise ValueError("expected redis://host:port/db or rediss://...")
    return raw


def key_bytes(length: int) -> Callable[[str], bytes]:
    """A base64 (standard or urlsafe) encoded key of exactly `length` bytes."""

    def parse(raw: str) -> bytes:
        try:
            value = base64.urlsafe_b64decode(raw.replace("+", "-").replace("/", "_") + "=" * (-len(raw) % 4))
        except (binascii.Error, ValueError):
            raise ValueError("expected base64") from None
        if len(value) != length:
            raise ValueError(f"expected {length} bytes of key material, got {len(value)}")
        return value

    return parse


def existing_file(raw: str) -> str:
    if raw and not os.path.isfile(raw):
        raise ValueError(f"file {raw!r} does not exist")
    return raw


COMMON_SETTINGS: tuple[Setting, ...] = (
    Setting("DB_WRITER_URL", mysql_url, None, "Writer endpoint, mysql://user:password@host:port/database", True),
    Setting("DB_READER_URL", mysql_url, "", "Reader (replica) endpoint; empty: all reads go to the writer", True),
    Setting("DB_TLS_CA", existing_file, "", "CA bundle path; when set, MySQL connections require TLS"),
    Setting("DB_POOL_SIZE", integer(1, 200), "8", "Connections per pool (writer and reader) per process"),
    Setting("DB_CONNECT_TIMEOUT_S", number(0.1, 30), "2", "TCP connect timeout to MySQL"),
    Setting("DB_QUERY_TIMEOUT_S", number(0.1, 120), "10", "Read/write socket timeout per query"),
    Setting("DB_RETRIES", integer(0, 10), "3", "Retries (jittered backoff) on failover-class errors"),
    Setting("REPLICA_MAX_LAG_S", number(0, 3600), "2", "Reads go to the writer while replica lag exceeds this"),
    Setting("REPLICA_LAG_CHECK_S", number(0.05, 60), "1", "How often each process re-measures replica lag"),
    Setting("READ_YOUR_WRITES_S", number(0, 3600), "5", "After a write, that client's reads use the writer"),
    Setting("READER_RETRY_AFTER_S", number(0.1, 600), "5", "After a reader failure, skip the reader this long"),
    Setting("REDIS_URL", redis_url, None, "Cache endpoint (ElastiCache), redis:// or rediss://"),
    Setting("REDIS_IAM_GROUP", text(), "", "ElastiCache replication group: AUTH as the URL's user with IAM tokens"),
    Setting("REDIS_TIMEOUT_S", number(0.01, 10), "0.25", "Redis socket timeout; beyond it the cache is bypassed"),
    Setting("REDIS_RETRY_AFTER_S", number(0.1, 600), "1", "After a Redis failure, bypass the cache this long"),
    Setting("CACHE_TTL_S", integer(1, 86400), "300", "Base cache TTL (jittered +-10%)"),
    Setting(
        "LOCAL_CACHE_TTL_S",
        number(0, 60),
        "30",
        "Per-process near cache for public data, invalidated by pub/sub (this is the bound); 0 disables",
    ),
    Setting("MAX_BODY_BYTES", integer(256, 10_000_000), "65536", "Largest accepted request body"),
    Setting("LOG_LEVEL", choice("DEBUG", "INFO", "WARNING", "ERROR"), "INFO", "Log level"),
    Setting("DRAIN_S", number(0, 300), "5", "After SIGTERM: seconds /readyz reports 503 before shutdown"),
)


class Settings:
    """Parsed settings of one service; attribute access by lower-case key (`settings.db_pool_size`)."""

    def __init__(self, service: str, values: dict[str, Any]) -> None:
        self.service = service
        self._values = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name.upper()]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, key: str) -> Any:
        return self._values[key]


def env_name(service: str, key: str) -> str:
    return f"PEAKSHOP_{service.upper().replace('-', '_')}_{key}"


def load_settings(service: str, specs: Iterable[Setting], environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    errors: list[str] = []
    for spec in specs:
        name = env_name(service, spec.key)
        raw = env.get(name)
        if raw is None:
            if spec.default is None:
                errors.append(f"{name}: required but not set")
                continue
            raw = spec.default
        try:
            values[spec.key] = spec.parse(raw)
        except ValueError as exc:
            errors.append(f"{name}: {exc}")
    if errors:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(errors))
    return Settings(service, values)


def settings_table(service: str, specs: Iterable[Setting]) -> str:
    """The README settings table, generated from the specs so docs cannot drift from code."""
    rows = ["| Variable | Default | Description |", "|---|---|---|"]
    for spec in specs:
        default = "(required)" if spec.default is None else (f"`{spec.default}`" if spec.default else "(empty)")
        rows.append(f"| `{env_name(service, spec.key)}` | {default} | {spec.doc} |")
    return "\n".join(rows)
