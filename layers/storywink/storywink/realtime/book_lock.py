"""A per-book PostgreSQL advisory lock: pushes for one book happen one at a time, in sequence order."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.orm import Session


def lock_book_stream(session: Session, book_id: UUID | str) -> None:
    """Held until the session's transaction ends."""
    key = int.from_bytes(UUID(str(book_id)).bytes[:8], "big", signed=True)
    session.execute(select(func.pg_advisory_xact_lock(key)))
