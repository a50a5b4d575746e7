"""What a parent waits for, as metrics: each finished book by outcome and plan, the time from the
request that started its generation to its final status, and the time to its first illustrated page.

A publisher of committed status events (storywink.services.events), so a metric is emitted once per
change that really happened: a redelivered message that changes nothing appends no event, and a
rolled-back transaction publishes nothing. The start is the latest `generation.started`,
`illustration.started` or `retry.started` event before the one published: the request the parent is
waiting on.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from storywink.db.engine import Database
from storywink.db.tables import Book, BookEvent, User
from storywink.domain.progress import BookProgress
from storywink.observability import emit_metric

STARTS = ("generation.started", "illustration.started", "retry.started")
FINISHES = ("book.finished", "book.failed")
FIRST_PAGE = "page.illustrated"


class BookOutcomeMetrics:
    def __init__(self, database: Callable[[], Database]) -> None:
        self._database = database  # built after the publishers (its sessions carry them)

    def __call__(self, book_event: BookEvent, progress: BookProgress) -> None:
        if book_event.type not in FINISHES and book_event.type != FIRST_PAGE:
            return
        with self._database().unit_of_work() as session:
            start = session.execute(
                select(BookEvent.seq, BookEvent.created_at)
                .where(BookEvent.book_id == book_event.book_id, BookEvent.type.in_(STARTS), BookEvent.seq < book_event.seq)
                .order_by(BookEvent.seq.desc())
                .limit(1)
            ).first()
            if start is None:
                return
            waited = (book_event.created_at - start.created_at).total_seconds()
            if book_event.type == FIRST_PAGE:
                illustrated = session.scalar(
                    select(func.count())
                    .select_from(BookEvent)
                    .where(
                        BookEvent.book_id == book_event.book_id,
                        BookEvent.type == FIRST_PAGE,
                        BookEvent.seq > start.seq,
                        BookEvent.seq <= book_event.seq,
                    )
                )
                if illustrated == 1:
                    emit_metric("TimeToFirstPageSeconds", "Seconds", waited)
                return
            plan = session.scalar(select(User.plan).join(Book, Book.owner_id == User.id).where(Book.id == book_event.book_id))
        outcome = str(book_event.payload.get("status", progress.status))
        emit_metric("BookFinished", "Count", 1, outcome=outcome, plan=str(plan.value if plan else "unknown"))
        emit_metric("TimeToBookSeconds", "Seconds", waited)  # no dimension: its p95 is over every book
