"""The book event log: each status change appends the book's next BookEvent (a per-book sequence with
no gaps) in the caller's transaction; once that transaction has committed and its connection is back
in the pool, the events are handed to the publishers the wiring registered on the session factory.

A publisher's failure never undoes a committed status: the event stays in the log, where every
reader (WebSocket fan-out, SSE, `GET …/status`) finds it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event, update
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.orm.attributes import set_committed_value

from storywink.db.tables import Book, BookEvent
from storywink.domain.progress import BookProgress
from storywink.observability import logger
from storywink.services.progress import compute_progress

Publisher = Callable[[BookEvent, BookProgress], None]
# The session factory's info holds the list under this key (see storywink.wiring).
PUBLISHERS = "storywink.publishers"
_PENDING = "storywink.pending_events"
_COMMITTED = "storywink.committed_events"


def append_event(session: Session, book: Book, event_type: str, payload: dict[str, Any]) -> BookEvent:
    """The book's next event; ``book`` must be locked by the caller (sequence numbers never collide)."""
    session.flush()
    progress = compute_progress(session, book)
    # One atomic increment: the book's row lock orders concurrent appends, and no two events of a book can
    # share a seq even if a caller forgot the lock (the partitioned table cannot hold a (book_id, seq) key).
    seq, updated_at = session.execute(
        update(Book)
        .where(Book.id == book.id)
        .values(last_event_seq=Book.last_event_seq + 1)
        .returning(Book.last_event_seq, Book.updated_at),
        execution_options={"synchronize_session": False},
    ).one()
    set_committed_value(book, "last_event_seq", seq)
    set_committed_value(book, "updated_at", updated_at)
    body = {
        "type": event_type,
        "bookId": str(book.id),
        "status": book.status.value,
        "progress": progress.model_dump(by_alias=True, mode="json"),
        **payload,
    }
    book_event = BookEvent(book_id=book.id, seq=seq, type=event_type, payload=body)
    session.add(book_event)
    session.flush()
    session.info.setdefault(_PENDING, []).append((book_event, progress))
    return book_event


@event.listens_for(Session, "after_commit")
def _keep_committed(session: Session) -> None:
    pending = session.info.pop(_PENDING, [])
    if pending:
        session.info.setdefault(_COMMITTED, []).extend(pending)


@event.listens_for(Session, "after_rollback")
def _drop_uncommitted(session: Session) -> None:
    session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_transaction_end")
def _publish_committed(session: Session, transaction: SessionTransaction) -> None:
    # Only at the end of the outermost transaction, when its connection has gone back to the pool:
    # a publisher that reads the database never needs a second connection.
    if transaction.parent is not None:
        return
    committed = session.info.pop(_COMMITTED, [])
    if not committed:
        return
    # One notification per book: the newest event (publishers deliver everything up to it anyway).
    latest = {book_event.book_id: (book_event, progress) for book_event, progress in committed}
    for book_event, progress in latest.values():
        for publisher in list(session.info.get(PUBLISHERS, ())):
            try:
                publisher(book_event, progress)
            except Exception:  # noqa: BLE001 - a publisher never undoes a committed status
                logger.exception("status publisher failed", extra={"bookId": str(book_event.book_id)})
