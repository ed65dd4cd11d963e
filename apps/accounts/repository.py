"""Accounts SQL. Callers pass already-encrypted PII; this module never sees plaintext personal data except
what it is handed. Erasure is one transaction: pseudonymise the account, delete addresses, record the
erasure request in the outbox."""

from __future__ import annotations

import uuid
from typing import Any

from apps.runtime.db import Cursor, Database

ACCOUNT_COLUMNS = "id, email_enc, name_enc, password_hash, status, created_at, erased_at"


def find_by_email_index(db: Database, email_index: bytes) -> dict[str, Any] | None:
    return db.query_one(f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE email_index = %s", (email_index,), fresh=True)


def get_account(db: Database, account_id: int, fresh: bool = False) -> dict[str, Any] | None:
    return db.query_one(f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = %s", (account_id,), fresh=fresh)


def create_account(
    db: Database, email_index: bytes, email_enc: bytes, name_enc: bytes, password_hash: str
) -> int | None:
    """New account id, or None if the email is taken (the unique blind index decides, race-free)."""

    def work(cur: Cursor) -> int | None:
        inserted = cur.execute(
            "INSERT IGNORE INTO accounts (email_index, email_enc, name_enc, password_hash) VALUES (%s, %s, %s, %s)",
            (email_index, email_enc, name_enc, password_hash),
        )
        return int(cur.lastrowid) if inserted == 1 else None

    return db.write(work)


def update_password_hash(db: Database, account_id: int, password_hash: str) -> None:
    db.execute(
        "UPDATE accounts SET password_hash = %s WHERE id = %s AND status = 'active'", (password_hash, account_id)
    )


def add_address(db: Database, account_id: int, content_index: bytes, data_enc: bytes, country: str) -> tuple[int, bool]:
    def work(cur: Cursor) -> tuple[int, bool]:
        created = cur.execute(
            "INSERT IGNORE INTO addresses (account_id, content_index, data_enc, country) VALUES (%s, %s, %s, %s)",
            (account_id, content_index, data_enc, country),
        )
        cur.execute(
            "SELECT id FROM addresses WHERE account_id = %s AND content_index = %s", (account_id, content_index)
        )
        return int(cur.fetchone()["id"]), created == 1

    return db.write(work)


def list_addresses(db: Database, account_id: int) -> list[dict[str, Any]]:
    return db.query(
        "SELECT id, data_enc, country, created_at FROM addresses WHERE account_id = %s ORDER BY id",
        (account_id,),
        fresh=True,
    )


def delete_address(db: Database, account_id: int, address_id: int) -> bool:
    return db.execute("DELETE FROM addresses WHERE id = %s AND account_id = %s", (address_id, account_id)) == 1


def record_consent(db: Database, account_id: int, purpose: str, granted: bool, policy_version: str) -> dict[str, Any]:
    def work(cur: Cursor) -> dict[str, Any]:
        cur.execute(
            "INSERT INTO consents (account_id, purpose, granted, policy_version) VALUES (%s, %s, %s, %s)",
            (account_id, purpose, granted, policy_version),
        )
        cur.execute(
            "SELECT id, purpose, granted, policy_version, recorded_at FROM consents WHERE id = %s", (cur.lastrowid,)
        )
        return dict(cur.fetchone())

    return db.write(work)


def consent_history(db: Database, account_id: int) -> list[dict[str, Any]]:
    return db.query(
        "SELECT id, purpose, granted, policy_version, recorded_at FROM consents WHERE account_id = %s ORDER BY id",
        (account_id,),
        fresh=True,
    )


def erase(db: Database, account_id: int) -> str:
    """Pseudonymise the account and delete its addresses; returns the erasure request id (the same one on a
    retry, so consumers of the queue can deduplicate)."""

    def work(cur: Cursor) -> str:
        cur.execute(
            "INSERT IGNORE INTO erasure_requests (id, account_id) VALUES (%s, %s)", (uuid.uuid4().hex, account_id)
        )
        cur.execute("DELETE FROM addresses WHERE account_id = %s", (account_id,))
        cur.execute(
            "UPDATE accounts SET email_index = NULL, email_enc = NULL, name_enc = NULL, password_hash = NULL, "
            "status = 'erased', erased_at = COALESCE(erased_at, NOW(6)) WHERE id = %s",
            (account_id,),
        )
        cur.execute("SELECT id FROM erasure_requests WHERE account_id = %s", (account_id,))
        return str(cur.fetchone()["id"])

    return db.write(work)


def erasure_request(db: Database, account_id: int) -> dict[str, Any] | None:
    return db.query_one(
        "SELECT id, account_id, requested_at, sent_at FROM erasure_requests WHERE account_id = %s",
        (account_id,),
        fresh=True,
    )


def unsent_erasures(db: Database, limit: int = 100) -> list[dict[str, Any]]:
    return db.query(
        "SELECT id, account_id, requested_at FROM erasure_requests WHERE sent_at IS NULL "
        "ORDER BY requested_at LIMIT %s",
        (limit,),
        fresh=True,
    )


def mark_erasure_sent(db: Database, request_id: str) -> None:
    db.execute("UPDATE erasure_requests SET sent_at = NOW(6) WHERE id = %s AND sent_at IS NULL", (request_id,))
