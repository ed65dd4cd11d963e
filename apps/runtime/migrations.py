"""Versioned SQL migrations (`V001__name.sql`), applied by an explicit command before a deploy, never at
process start (many pods racing DDL on boot is how outages start).

Expand/contract: a normal migration may only add (tables, nullable or defaulted columns, indexes) so the
previous release keeps working on the new schema; destructive changes go in a file whose name contains
`contract`, shipped only after no running code needs the old shape. `contract_violations` enforces this."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import pymysql

from apps.runtime.config import MysqlUrl

FILE_RE = re.compile(r"^V(\d{3,})__([a-z0-9_]+)\.sql$")
_DESTRUCTIVE = [
    (re.compile(r"\bDROP\s+(TABLE|COLUMN|INDEX|DATABASE)\b", re.I), "drops schema objects"),
    (re.compile(r"\bRENAME\s+(TABLE|COLUMN|TO)\b", re.I), "renames (old code would lose its names)"),
    (re.compile(r"\b(CHANGE|MODIFY)\s+(COLUMN\s+)?`?\w+`?\s", re.I), "changes a column definition"),
    (re.compile(r"\bTRUNCATE\b|\bDELETE\s+FROM\b", re.I), "removes data"),
    (
        re.compile(r"\bADD\s+(COLUMN\s+)?`?\w+`?\s+[^,;]*\bNOT\s+NULL\b(?![^,;]*\bDEFAULT\b)", re.I),
        "adds a NOT NULL column without DEFAULT (old code's INSERTs would fail)",
    ),
]


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @property
    def is_contract(self) -> bool:
        return "contract" in self.name

    def statements(self) -> list[str]:
        body = "\n".join(line for line in self.sql.splitlines() if not line.strip().startswith("--"))
        return [s.strip() for s in re.split(r";\s*(?:\n|$)", body) if s.strip()]


def discover(directory: Path) -> list[Migration]:
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = FILE_RE.match(path.name)
        if not match:
            raise MigrationError(f"{path}: migration files are named V<NNN>__<snake_name>.sql")
        found.append(Migration(int(match.group(1)), match.group(2), path.read_text()))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"{directory}: duplicate migration versions {versions}")
    return sorted(found, key=lambda m: m.version)


def contract_violations(migration: Migration) -> list[str]:
    if migration.is_contract:
        return []
    return [
        f"V{migration.version:03d}__{migration.name}: {why}: {stmt[:80]!r}"
        for stmt in migration.statements()
        for pattern, why in _DESTRUCTIVE
        if pattern.search(stmt)
    ]


def _connect(url: MysqlUrl, tls_ca: str) -> pymysql.Connection:
    tls = {"ssl_ca": tls_ca, "ssl_verify_cert": True, "ssl_verify_identity": True} if tls_ca else {}
    return pymysql.connect(
        host=url.host,
        port=url.port,
        user=url.user,
        password=url.password,
        charset="utf8mb4",
        autocommit=True,
        connect_timeout=5,
        **tls,
    )


def migrate(url: MysqlUrl, migrations: list[Migration], target: int | None = None, tls_ca: str = "") -> list[int]:
    """Apply pending migrations up to `target` (all if None); returns the versions applied. Serialised with
    a named lock so two deploy jobs cannot interleave; an edited, already-applied file is an error."""
    db = url.database
    if not re.fullmatch(r"[A-Za-z0-9_]{1,64}", db):
        raise MigrationError(f"unsupported database name {db!r}")
    conn = _connect(url, tls_ca)
    applied_now: list[int] = []
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS `{db}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
            cur.execute(f"USE `{db}`")
            cur.execute("SELECT GET_LOCK(%s, 60)", (f"peakshop-migrate-{db}",))
            if cur.fetchone() != (1,):
                raise MigrationError(f"another migration of {db} holds the lock")
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INT PRIMARY KEY, name VARCHAR(200) NOT NULL, "
                "checksum CHAR(64) NOT NULL, applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))"
            )
            cur.execute("SELECT version, checksum FROM schema_migrations")
            applied = dict(cur.fetchall())
            for m in migrations:
                if m.version in applied:
                    if applied[m.version] != m.checksum:
                        raise MigrationError(f"V{m.version:03d}__{m.name} changed after it was applied")
                    continue
                if target is not None and m.version > target:
                    break
                for stmt in m.statements():
                    cur.execute(stmt)
                cur.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                    (m.version, m.name, m.checksum),
                )
                applied_now.append(m.version)
            cur.execute("SELECT RELEASE_LOCK(%s)", (f"peakshop-migrate-{db}",))
    finally:
        conn.close()
    return applied_now


def applied_versions(url: MysqlUrl, tls_ca: str = "") -> list[int]:
    conn = _connect(url, tls_ca)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT version FROM `{url.database}`.schema_migrations ORDER BY version")
            return [row[0] for row in cur.fetchall()]
    finally:
        conn.close()
