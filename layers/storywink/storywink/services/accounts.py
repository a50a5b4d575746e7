"""Account deletion as the API and the sweep ask for it: the deletion record (the job's state, then the
tombstone) and when its message is due. The job itself is storywink.privacy.deletion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from storywink.db.tables import AccountDeletion
from storywink.domain.enums import DeletionReason


def request_deletion(session: Session, user_id: str, reason: DeletionReason) -> AccountDeletion:
    """The user's deletion record, created by the first request (a repeat finds the same one)."""
    session.execute(
        insert(AccountDeletion).values(user_id=user_id, reason=reason).on_conflict_do_nothing(index_elements=[AccountDeletion.user_id])
    )
    return session.execute(
        select(AccountDeletion).where(AccountDeletion.user_id == user_id).execution_options(populate_existing=True)
    ).scalar_one()


def message_due(deletion: AccountDeletion, resend_seconds: int, now: datetime | None = None) -> bool:
    """An unfinished deletion needs a message when none was sent, or the last one is long overdue (lost or
    dead-lettered): a repeat DELETE or the sweep sends another. Otherwise the job's own chain carries on."""
    if deletion.finished_at is not None:
        return False
    if deletion.last_enqueued_at is None:
        return True
    return deletion.last_enqueued_at < (now or datetime.now(UTC)) - timedelta(seconds=resend_seconds)


def mark_enqueued(session: Session, user_id: str) -> None:
    session.execute(update(AccountDeletion).where(AccountDeletion.user_id == user_id).values(last_enqueued_at=func.now()))


def overdue_deletions(session: Session, resend_seconds: int, limit: int) -> list[str]:
    """Unfinished deletions whose last message is overdue (the sweep resends them)."""
    cutoff = func.now() - timedelta(seconds=resend_seconds)
    return list(
        session.execute(
            select(AccountDeletion.user_id)
            .where(AccountDeletion.finished_at.is_(None))
            .where(AccountDeletion.last_enqueued_at.is_(None) | (AccountDeletion.last_enqueued_at < cutoff))
            .order_by(AccountDeletion.last_enqueued_at.nulls_first())
            .limit(limit)
        ).scalars()
    )


def purge_tombstones(session: Session, tombstone_seconds: int) -> int:
    """Finished deletions older than the tombstone's life go: no token of theirs is valid any more."""
    result = session.execute(
        delete(AccountDeletion).where(
            AccountDeletion.finished_at.is_not(None),
            AccountDeletion.finished_at < func.now() - timedelta(seconds=tombstone_seconds),
        )
    )
    return result.rowcount or 0
