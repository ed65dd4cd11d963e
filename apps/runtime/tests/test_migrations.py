"""Migrations on a real MariaDB: apply once, refuse edited history, stay expand-only between versions."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from apps.localdeps import LocalDeps
from apps.runtime.config import mysql_url
from apps.runtime.migrations import Migration, MigrationError, applied_versions, contract_violations, discover, migrate

APPS = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.parent.name for p in APPS.glob("*/migrations") if (p.parent / "openapi.yaml").exists())


def admin_url(deps: LocalDeps, db: str):
    return mysql_url(deps.endpoints.mysql_url(db, admin=True))


def columns(deps: LocalDeps, db: str) -> dict[tuple[str, str], dict]:
    rows = deps.writer.query(  # type: ignore[union-attr]
        "SELECT table_name AS t, column_name AS c, column_type AS type, is_nullable AS nullable, "
        "column_default AS dflt, extra FROM information_schema.columns WHERE table_schema = %s",
        (db,),
    )
    return {(r["t"], r["c"]): r for r in rows}


def test_apply_is_idempotent_and_edited_history_is_refused(deps: LocalDeps, tmp_path: Path):
    db = f"peakshop_mig_{secrets.token_hex(3)}"
    (tmp_path / "V001__t.sql").write_text("CREATE TABLE t (id INT PRIMARY KEY);\n")
    (tmp_path / "V002__add_note.sql").write_text("-- expand\nALTER TABLE t ADD COLUMN note VARCHAR(10) NULL;\n")
    assert migrate(admin_url(deps, db), discover(tmp_path), target=1) == [1]
    assert migrate(admin_url(deps, db), discover(tmp_path)) == [2]
    assert migrate(admin_url(deps, db), discover(tmp_path)) == []
    assert applied_versions(admin_url(deps, db)) == [1, 2]
    (tmp_path / "V001__t.sql").write_text("CREATE TABLE t (id BIGINT PRIMARY KEY);\n")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        migrate(admin_url(deps, db), discover(tmp_path))


def test_bad_file_names_are_rejected(tmp_path: Path):
    (tmp_path / "create_things.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="V<NNN>__"):
        discover(tmp_path)


@pytest.mark.parametrize(
    ("sql", "destructive"),
    [
        ("ALTER TABLE t DROP COLUMN x;", True),
        ("ALTER TABLE t RENAME COLUMN a TO b;", True),
        ("ALTER TABLE t MODIFY COLUMN a BIGINT;", True),
        ("ALTER TABLE t ADD COLUMN a INT NOT NULL;", True),
        ("DROP TABLE t;", True),
        ("ALTER TABLE t ADD COLUMN a INT NOT NULL DEFAULT 0;", False),
        ("ALTER TABLE t ADD COLUMN a INT NULL;", False),
        ("CREATE INDEX ix ON t (a);", False),
    ],
)
def test_contract_lint(sql: str, destructive: bool):
    assert bool(contract_violations(Migration(2, "change", sql))) is destructive
    assert contract_violations(Migration(2, "contract_old_column", sql)) == []


@pytest.mark.parametrize("service", SERVICES)
def test_service_migrations_are_expand_only_on_a_live_schema(deps: LocalDeps, service: str):
    """Applying each migration keeps every existing column unchanged and adds only nullable/defaulted ones,
    so the previous release keeps running on the new schema."""
    migrations = discover(APPS / service / "migrations")
    assert migrations, f"{service} has no migrations"
    assert [v for m in migrations for v in contract_violations(m)] == []
    db = f"peakshop_exp_{secrets.token_hex(3)}"
    before: dict = {}
    for m in migrations:
        migrate(admin_url(deps, db), migrations, target=m.version)
        after = columns(deps, db)
        for key, col in before.items():
            assert after.get(key) == col, f"{service} V{m.version:03d} changed {key}"
        for key in after.keys() - before.keys():
            col = after[key]
            if before and key[0] in {k[0] for k in before}:
                assert col["nullable"] == "YES" or col["dflt"] is not None, f"{key} added NOT NULL without default"
        before = after
