"""Server-Sent Events for a book's progress, resumable with Last-Event-ID.

Each event's `id:` is its per-book sequence number, so a client that reconnects with Last-Event-ID
gets exactly the events it missed. Status commits in this process wake the stream at once; commits
made elsewhere are picked up by a re-read every second. Under Lambda (buffered by Mangum and API
Gateway) a response covers a bounded window and ends with a `retry:` hint, so EventSource
reconnects and resumes; the WebSocket API is the push channel there. Each open stream holds one of its
user's stream leases (storywink.services.stream_leases) and gives it back when it ends.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from sqlalchemy import select

from storywink.config import Settings
from storywink.db.engine import Database
from storywink.db.tables import Book, BookEvent
from storywink.domain.progress import BookProgress
from storywink.domain.rules import FINAL_STATUSES
from storywink.realtime.frames import event_frame, snapshot_frame
from storywink.services.progress import compute_progress
from storywink.services.stream_leases import StreamLeaseKeeper

RETRY_MILLISECONDS = 2000
RECHECK_SECONDS = 1.0


class BookEventWaiter:
    """Wakes streams of a book when one of its status events commits in this process."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._versions: dict[UUID, int] = {}

    def __call__(self, book_event: BookEvent, progress: BookProgress) -> None:
        with self._condition:
            self._versions[book_event.book_id] = self._versions.get(book_event.book_id, 0) + 1
            self._condition.notify_all()

    def version(self, book_id: UUID) -> int:
        with self._condition:
            return self._versions.get(book_id, 0)

    def wait(self, book_id: UUID, seen: int, timeout: float) -> int:
        with self._condition:
            self._condition.wait_for(lambda: self._versions.get(book_id, 0) != seen, timeout=timeout)
            return self._versions.get(book_id, 0)


def sse_message(seq: int, event: str, data: dict[str, Any]) -> str:
    return f"id: {seq}\nevent: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def stream_window(settings: Settings) -> float | None:
    """How long one response may stay open: bounded under Lambda, open-ended elsewhere."""
    return settings.sse_window_seconds if settings.runs_in_lambda else None


def book_event_stream(
    book_id: UUID,
    last_event_id: int | None,
    settings: Settings,
    database: Database,
    waiter: BookEventWaiter,
    lease: StreamLeaseKeeper,
) -> Iterator[str]:
    try:
        seen_version = waiter.version(book_id)
        window = stream_window(settings)
        started = last_write = renewed = time.monotonic()
        yield f"retry: {RETRY_MILLISECONDS}\n\n"
        after = last_event_id
        if after is None:
            snapshot = _snapshot(database, book_id)
            if snapshot is None:
                return  # deleted between the owner check and now
            seq, status, progress = snapshot
            yield sse_message(seq, "snapshot", snapshot_frame(str(book_id), seq, progress))
            if status in FINAL_STATUSES:
                return
            after = seq
        while True:
            events, final_seq = _events_after(database, book_id, after)
            for event in events:
                yield sse_message(event.seq, event.type, event_frame(event))
                after = event.seq
                last_write = time.monotonic()
            if final_seq is not None and after >= final_seq:
                return  # the book is finished and the client has every event
            if window is not None and time.monotonic() - started >= window:
                return
            seen_version = waiter.wait(book_id, seen_version, timeout=RECHECK_SECONDS)
            if time.monotonic() - last_write >= settings.sse_heartbeat_seconds:
                yield ": heartbeat\n\n"
                last_write = time.monotonic()
            if time.monotonic() - renewed >= lease.renew_every:
                lease.renew()
                renewed = time.monotonic()
    finally:
        lease.release()


def _snapshot(database: Database, book_id: UUID) -> tuple[int, Any, BookProgress] | None:
    with database.sessions() as session:
        book = session.get(Book, book_id)
        if book is None:
            return None
        return book.last_event_seq, book.status, compute_progress(session, book)


def _events_after(database: Database, book_id: UUID, after: int) -> tuple[list[BookEvent], int | None]:
    """Events after ``after``, and the last sequence number if the book is in a final status."""
    with database.sessions() as session:
        book = session.get(Book, book_id)
        if book is None:
            return [], after
        events = list(
            session.execute(
                select(BookEvent).where(BookEvent.book_id == book_id, BookEvent.seq > after).order_by(BookEvent.seq)
            ).scalars()
        )
        return events, (book.last_event_seq if book.status in FINAL_STATUSES else None)
