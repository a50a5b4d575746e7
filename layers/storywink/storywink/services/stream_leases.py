"""How many event streams a user holds open: a lease per stream in PostgreSQL, shared by every container.

Under Lambda each open `/status/stream` response holds a function instance for its whole window, so one
user may hold only `SSE_MAX_STREAMS_PER_USER` at once; one more is refused with 429 and a Retry-After.
A stream takes its lease before it starts, renews it while it runs and deletes it when it ends; a lease
its stream never deleted (a crash, a timeout) runs out after `SSE_STREAM_LEASE_SECONDS` and frees its
slot. Taking a lease locks the user's row, so concurrent requests can never pass the cap together.
"""

from __future__ import annotations

import math
from datetime import timedelta
from uuid import UUID

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from storywink.db.engine import Database
from storywink.db.tables import StreamLease, User
from storywink.domain.errors import RateLimited


class TooManyStreams(RateLimited):
    code = "TOO_MANY_STREAMS"


def acquire(session: Session, user_id: str, book_id: UUID, *, limit: int, lease_seconds: int) -> UUID:
    """A lease for one more stream of this user (in the caller's transaction), or TooManyStreams."""
    session.execute(select(User.id).where(User.id == user_id).with_for_update())
    session.execute(delete(StreamLease).where(StreamLease.user_id == user_id, StreamLease.expires_at <= func.now()))
    open_leases, next_expiry = session.execute(
        select(func.count(), func.min(StreamLease.expires_at - func.now())).where(StreamLease.user_id == user_id)
    ).one()
    if open_leases >= limit:
        retry_after = max(1, math.ceil(next_expiry.total_seconds()))
        raise TooManyStreams(
            f"You already have {open_leases} progress streams open (the most is {limit}). Close one, or use the "
            "WebSocket API for live progress.",
            retry_after_seconds=retry_after,
            details={"limit": limit, "open": open_leases},
        )
    lease = StreamLease(user_id=user_id, book_id=book_id, expires_at=func.now() + timedelta(seconds=lease_seconds))
    session.add(lease)
    session.flush()
    return lease.id


class StreamLeaseKeeper:
    """The lease of one running stream: renewed in short sessions of its own, deleted at the end."""

    def __init__(self, database: Database, lease_id: UUID, lease_seconds: int) -> None:
        self.database = database
        self.lease_id = lease_id
        self.lease_seconds = lease_seconds

    @property
    def renew_every(self) -> float:
        return self.lease_seconds / 3

    def renew(self) -> None:
        with self.database.unit_of_work() as session:
            session.execute(
                update(StreamLease)
                .where(StreamLease.id == self.lease_id)
                .values(expires_at=func.now() + timedelta(seconds=self.lease_seconds))
            )

    def release(self) -> None:
        with self.database.unit_of_work() as session:
            session.execute(delete(StreamLease).where(StreamLease.id == self.lease_id))
