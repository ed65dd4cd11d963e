"""GDPR erasure of what the order side keeps about a user: orders are retained for accounting, so their
personal data is pseudonymised (email, payment token) rather than deleted. Idempotent: erasing twice
changes nothing more."""

from __future__ import annotations

import hashlib
from typing import Any

from celery import Celery

from apps.workers import schema
from apps.workers.context import WorkerContext


def erased_email(user_id: str) -> str:
    return f"erased-{hashlib.sha256(user_id.encode()).hexdigest()[:16]}@invalid"


def erase_user(ctx: WorkerContext, user_id: str) -> int:
    return ctx.db.execute(
        "UPDATE orders SET email = %s, payment_token = 'erased' WHERE user_id = %s AND payment_token <> 'erased'",
        (erased_email(user_id), user_id),
    )


def register(app: Celery, ctx: WorkerContext) -> None:
    @app.task(bind=True, name=schema.ERASE_USER, max_retries=ctx.settings.max_retries)
    @schema.versioned(schema.ERASE_USER)
    def erase(self: Any, user_id: str) -> int:
        return erase_user(ctx, user_id)
