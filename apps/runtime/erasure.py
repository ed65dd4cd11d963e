"""Sessions that outlive their account. Session tokens are verified offline and stay valid for up to
SESSION_TTL_S, so after a GDPR erasure a token could still create a cart or an order. The privacy worker
records the erased subject in each service's `erased_accounts` table, in the transaction that erases that
service's data; writes that would create new personal data for a subject check it with a locking read in
their own transaction, so either the write sees the erasure or the erasure sees (and erases) the write."""

from __future__ import annotations

import hashlib

from apps.runtime.db import Cursor


def erased_email(subject: str) -> str:
    """What an erased account's email becomes in records kept for accounting (orders)."""
    return f"erased-{hashlib.sha256(subject.encode()).hexdigest()[:16]}@invalid"


def record(cur: Cursor, subject: str) -> None:
    cur.execute("INSERT IGNORE INTO erased_accounts (subject) VALUES (%s)", (subject,))


def is_erased(cur: Cursor, subject: str) -> bool:
    cur.execute("SELECT 1 FROM erased_accounts WHERE subject = %s LOCK IN SHARE MODE", (subject,))
    return cur.fetchone() is not None
