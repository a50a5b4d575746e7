"""Live progress over the WebSocket API: subscribing, and pushing a book's events to its subscribers.

Every subscriber gets every event after its subscription's `lastSeq`, in order: a push reads the
subscription (strongly consistent), posts the events after it one by one and advances `lastSeq` after
each post that went through, on the condition that it only moves forward. The events come from one
short read-only session that is closed before any post; no database lock or transaction is held while
API Gateway is called.

Each subscriber is pushed to on a thread of its own with short timeouts, so one slow or dead client
never holds up another: a post that times out stalls that subscriber (it is skipped for
`PUSH_STALL_SECONDS`, then picks up from its `lastSeq`), a 410 Gone removes the connection, any other
failure leaves `lastSeq` where it is for the next push.

A new subscription is caught up in its book's turn on the fan-out queue (storywink.realtime.fanout), so
only one push for a book runs at a time; if that hand-off fails, subscribe catches up itself.

The guarantee: a subscriber's frames are in sequence order and, after dropping any frame whose `seq` it
has already seen, complete. A frame is sent twice only when a post went through but recording it did
not (or, rarely, when a subscribe had to catch up by itself while a fan-out ran); clients drop repeats
by `seq` (the protocol says so). A run of posts never skips a sequence number: a subscriber whose
events do not follow on from its `lastSeq` is left to its own catch-up.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

from sqlalchemy import select

from storywink.db.engine import Database
from storywink.db.tables import Book, BookEvent
from storywink.flags import FlagStore
from storywink.observability import logger, metrics
from storywink.realtime.connections import ConnectionStore, Subscription
from storywink.realtime.fanout import FanoutEnqueuer
from storywink.realtime.frames import ErrorCode, error_frame, event_frame, snapshot_frame
from storywink.realtime.gateway import ConnectionGateway, ConnectionGone, PostTimedOut
from storywink.services.progress import compute_progress

# Posts in flight at once for one book (the management client's pool holds 50 connections).
MAX_PARALLEL_POSTS = 32


class LiveProgress:
    def __init__(
        self,
        store: ConnectionStore,
        gateway: ConnectionGateway,
        database: Database,
        flags: FlagStore,
        fanout: FanoutEnqueuer | None,
        *,
        stall_seconds: int,
        max_subscriptions: int,
    ) -> None:
        self.max_subscriptions = max_subscriptions
        self.store = store
        self.gateway = gateway
        self.database = database
        self.flags = flags
        self.fanout = fanout
        self.stall_seconds = stall_seconds

    def pushes_enabled(self) -> bool:
        """The live_pushes flag: a kill switch for pushing status events (subscribing and snapshots still work)."""
        return self.flags.enabled("live_pushes", default=True)

    # ---------------------------------------------------------------- fan-out
    def fan_out(self, book_id: UUID, seq: int) -> int:
        """Bring every subscriber of the book up to date (``seq``: the newest event known to exist);
        returns the frames sent."""
        if not self.pushes_enabled():
            return 0
        behind = [s for s in self.store.subscribers(str(book_id)) if s.last_seq < seq]
        return self._push(book_id, behind)

    def catch_up(self, book_id: UUID, connection_id: str) -> int:
        """What a new subscription missed between its snapshot (or its lastSeq) and now; returns the frames sent."""
        subscription = self.store.subscription(connection_id, str(book_id))
        return self._push(book_id, [subscription] if subscription else [])

    def _push(self, book_id: UUID, subscriptions: Iterable[Subscription]) -> int:
        now = time.time()
        waiting = [s for s in subscriptions if not s.stalled(now)]
        if not waiting:
            return 0
        # The index lags behind the table, so reading from its oldest lastSeq covers everyone it lists (one
        # who just resubscribed further back is caught up by its own subscribe).
        events = self._events_after(book_id, min(s.last_seq for s in waiting))
        if not events:
            return 0
        # Each post runs in a copy of the invocation's context, so its log lines carry the invocation's keys.
        with ThreadPoolExecutor(max_workers=min(len(waiting), MAX_PARALLEL_POSTS)) as pool:
            return sum(
                pool.map(
                    lambda s: contextvars.copy_context().run(self._bring_up_to_date, s.connection_id, str(book_id), events),
                    waiting,
                )
            )

    def _events_after(self, book_id: UUID, seq: int) -> list[BookEvent]:
        with self.database.sessions() as session:
            return list(
                session.execute(
                    select(BookEvent).where(BookEvent.book_id == book_id, BookEvent.seq > seq).order_by(BookEvent.seq)
                ).scalars()
            )

    def _bring_up_to_date(self, connection_id: str, book_id: str, events: list[BookEvent]) -> int:
        try:
            return self._send_missing(connection_id, book_id, events)
        except Exception:  # noqa: BLE001 - one broken subscriber never holds back the others
            logger.exception("push failed", extra={"connectionId": connection_id, "bookId": book_id})
            metrics.add_metric(name="PushFailed", unit="Count", value=1)
            return 0

    def _send_missing(self, connection_id: str, book_id: str, events: list[BookEvent]) -> int:
        # Read again, strongly consistent: the index lags, and a catch-up may have moved this one on.
        subscription = self.store.subscription(connection_id, book_id)
        if subscription is None or subscription.stalled(time.time()):
            return 0
        missing = [event for event in events if event.seq > subscription.last_seq]
        if not missing or missing[0].seq != subscription.last_seq + 1:
            return 0  # nothing to send, or events this read does not have: its own catch-up sends those
        sent = 0
        for event in missing:
            try:
                self.gateway.post(connection_id, event_frame(event))
            except ConnectionGone:
                logger.info("connection gone: removing it", extra={"connectionId": connection_id, "bookId": book_id})
                self.store.remove_connection(connection_id)
                metrics.add_metric(name="WebSocketConnectionGone", unit="Count", value=1)
                return sent
            except PostTimedOut:
                logger.warning(
                    "push timed out: skipping the subscriber for a while",
                    extra={"connectionId": connection_id, "bookId": book_id, "seconds": self.stall_seconds},
                )
                self.store.stall(connection_id, book_id, int(time.time()) + self.stall_seconds)
                metrics.add_metric(name="PushTimedOut", unit="Count", value=1)
                return sent
            self.store.advance(connection_id, book_id, event.seq)
            sent += 1
        return sent

    # ---------------------------------------------------------------- subscriptions
    def subscribe(self, connection_id: str, book_id: UUID, last_seq: int | None = None) -> None:
        """Owner check; then the events after ``last_seq`` or, without one (or with pushes off), a snapshot of
        the progress; then, through the catch-up, whatever committed meanwhile; then live events.

        Here ``last_seq`` is the client's own claim; an owner who claims too much only misses their own events."""
        user_id = self.store.connection_user(connection_id)
        pushes = self.pushes_enabled()
        snapshot = None
        with self.database.sessions() as session:
            # One view of the database for the book, its progress and its sequence number.
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            book = session.get(Book, book_id)
            owned = user_id is not None and book is not None and book.owner_id == user_id
            if owned and (last_seq is None or last_seq > book.last_event_seq or not pushes):
                snapshot = snapshot_frame(str(book_id), book.last_event_seq, compute_progress(session, book))
        if not owned:
            # Exactly what a missing book looks like: nothing about someone else's book leaks.
            self.gateway.post(connection_id, error_frame(ErrorCode.BOOK_NOT_FOUND, "Book not found.", book_id=str(book_id)))
            return
        new = self.store.subscription(connection_id, str(book_id)) is None
        if new and self.store.held_by(user_id).subscriptions >= self.max_subscriptions:
            message = f"At most {self.max_subscriptions} subscriptions at once: unsubscribe from a book first."
            self.gateway.post(connection_id, error_frame(ErrorCode.TOO_MANY_SUBSCRIPTIONS, message, book_id=str(book_id)))
            return
        if snapshot is not None:
            # Posted before the subscription exists, so no push can overtake it.
            self.gateway.post(connection_id, snapshot)
            last_seq = snapshot["seq"]
        self.store.subscribe(connection_id, user_id, str(book_id), last_seq)
        if pushes and not (self.fanout and self.fanout.catch_up(book_id, connection_id, last_seq)):
            self.catch_up(book_id, connection_id)

    def unsubscribe(self, connection_id: str, book_id: UUID) -> None:
        self.store.unsubscribe(connection_id, str(book_id))
