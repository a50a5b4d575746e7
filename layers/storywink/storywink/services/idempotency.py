"""Idempotency-Key: a repeated request gets the first one's response instead of doing the work again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storywink.db.tables import IdempotencyRecord
from storywink.domain.errors import ValidationFailed

KEY_MAX = 128


def check_key(key: str | None) -> str | None:
    if key is not None and not (0 < len(key) <= KEY_MAX):
        raise ValidationFailed(f"Idempotency-Key must be 1-{KEY_MAX} characters.", code="INVALID_IDEMPOTENCY_KEY")
    return key


def find(session: Session, user_id: str, key: str, route: str) -> IdempotencyRecord | None:
    record = session.execute(
        select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
    ).scalar_one_or_none()
    if record is not None and record.route != route:
        raise ValidationFailed(
            "This Idempotency-Key was already used for a different request.",
            code="IDEMPOTENCY_KEY_REUSED",
            details={"firstUsedFor": record.route},
        )
    return record


def remember(session: Session, user_id: str, key: str, route: str, status_code: int, body: dict[str, Any]) -> None:
    session.add(IdempotencyRecord(user_id=user_id, key=key, route=route, status_code=status_code, body=body))
    session.flush()
