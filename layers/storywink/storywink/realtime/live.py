"""Pushing status events to WebSocket subscribers.

After a status change commits, the book's subscribers are brought up to date: under the book's
advisory lock, each subscriber gets every event after the last one it received, in order, exactly
once; its subscription records how far it got. A vanished connection (410 Gone) is removed.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from storywink.db.engine import Database
from storywink.db.tables import Book, BookEvent
from storywink.domain.progress import BookProgress
from storywink.flags import FlagStore
from storywink.observability import logger, metrics
from storywink.realtime.book_lock import lock_book_stream
from storywink.realtime.connections import ConnectionStore
from storywink.realtime.frames import error_frame, event_frame, snapshot_frame
from storywink.realtime.gateway import ConnectionGateway, ConnectionGone
from storywink.services.progress import compute_progress


class LivePublisher:
    def __init__(self, store: ConnectionStore, gateway: ConnectionGateway, database: Database, flags: FlagStore) -> None:
        self.store = store
        self.gateway = gateway
        self.database = database
        self.flags = flags

    def pushes_enabled(self) -> bool:
        """The live_pushes flag: a kill switch for pushing status events (subscribing and snapshots still work)."""
        return self.flags.enabled("live_pushes", default=True)

    def __call__(self, book_event: BookEvent, progress: BookProgress) -> None:
        if self.pushes_enabled():
            self.sync(book_event.book_id)

    def sync(self, book_id: UUID, also: str | None = None) -> int:
        """Deliver every event a subscriber of this book has not had yet; returns frames sent.

        ``also`` names a connection that has just subscribed (the index may not show it yet)."""
        found = {s.connection_id for s in self.store.subscribers(str(book_id))}
        if also:
            found.add(also)
        if not found:
            return 0
        sent = 0
        with self.database.sessions() as session, session.begin():
            lock_book_stream(session, book_id)
            # Under the lock, read each subscription consistently: another publisher may have moved it on.
            subscriptions = [s for s in (self.store.subscription(c, str(book_id)) for c in sorted(found)) if s]
            if not subscriptions:
                return 0
            oldest = min(s.last_seq for s in subscriptions)
            events = list(
                session.execute(
                    select(BookEvent).where(BookEvent.book_id == book_id, BookEvent.seq > oldest).order_by(BookEvent.seq)
                ).scalars()
            )
            for subscription in subscriptions:
                try:
                    sent += self._deliver(subscription.connection_id, str(book_id), subscription.last_seq, events)
                except Exception:  # noqa: BLE001 - one broken subscriber never holds back the others
                    logger.exception("push failed", extra={"connectionId": subscription.connection_id})
        return sent

    def _deliver(self, connection_id: str, book_id: str, last_seq: int, events: list[BookEvent]) -> int:
        sent = 0
        for event in events:
            if event.seq <= last_seq:
                continue
            try:
                self.gateway.post(connection_id, event_frame(event))
            except ConnectionGone:
                logger.info("connection gone: removing it", extra={"connectionId": connection_id, "bookId": book_id})
                self.store.remove_connection(connection_id)
                metrics.add_metric(name="WebSocketConnectionGone", unit="Count", value=1)
                return sent
            self.store.advance(connection_id, book_id, event.seq)
            sent += 1
        return sent

    def subscribe(self, session: Session, connection_id: str, book_id: UUID) -> None:
        """Owner check, then the current progress, then (via sync) every later event."""
        user_id = self.store.connection_user(connection_id)
        with session.begin():
            lock_book_stream(session, book_id)
            book = session.get(Book, book_id, populate_existing=True)
            if user_id is None or book is None or book.owner_id != user_id:
                # Exactly what a missing book looks like: nothing about someone else's book leaks.
                self.gateway.post(connection_id, error_frame("BOOK_NOT_FOUND", "Book not found.", bookId=str(book_id)))
                return
            progress = compute_progress(session, book)
            self.store.subscribe(connection_id, user_id, str(book_id), book.last_event_seq)
            self.gateway.post(connection_id, snapshot_frame(str(book_id), book.last_event_seq, progress))

    def unsubscribe(self, connection_id: str, book_id: UUID) -> None:
        self.store.unsubscribe(connection_id, str(book_id))
