"""A waiting book's place in its line and its estimated start, read from the database (the rules are in
storywink.domain.admission).

Only a waiting book (`queued_at` set) costs anything here: one range scan of the partial index of
waiting books for the books ahead of it in the same status and line, and one backward scan of the
latest successful runs of its step for the mean task duration.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select, tuple_
from sqlalchemy.orm import Session

from storywink.db.tables import Book, JobRun, Page
from storywink.domain.admission import WAITING_STEP, Capacity, pages_queued, queue_progress
from storywink.domain.enums import JobStatus, JobStep, ModerationStatus
from storywink.domain.progress import QueueProgress

# The session factory's info holds the container's Capacity under this key (see storywink.wiring).
CAPACITY = "storywink.capacity"
# The mean task duration is taken over this many latest successful runs of the step.
RECENT_RUNS = 50


def book_queue(session: Session, book: Book) -> QueueProgress | None:
    step = WAITING_STEP.get(book.status)
    if step is None or book.queued_at is None:
        return None
    capacity: Capacity = session.info[CAPACITY]
    ahead = (
        Book.queued_at.is_not(None),
        Book.status == book.status,
        Book.queue_priority == book.queue_priority,
        tuple_(Book.queued_at, Book.id) < tuple_(book.queued_at, book.id),
    )
    if step == JobStep.STORY:
        books_ahead = tasks_ahead = session.execute(select(func.count()).select_from(Book).where(*ahead)).scalar_one()
    else:
        by_pending = _illustrating_books_by_pending_pages(session, ahead)
        books_ahead, tasks_ahead = sum(by_pending.values()), pages_queued(by_pending, capacity.pages_in_parallel)
    step_capacity = capacity.of(step)
    return queue_progress(
        books_ahead,
        tasks_ahead,
        step_capacity.slots(book.queue_priority),  # type: ignore[arg-type]
        _mean_task_seconds(session, step) or step_capacity.default_task_seconds,
    )


def _illustrating_books_by_pending_pages(session: Session, ahead: tuple[ColumnElement[bool], ...]) -> dict[int, int]:
    """{pending pages: how many of the books ahead have that many} (at most one row per page count)."""
    pending = (
        select(func.count())
        .where(Page.book_id == Book.id, Page.moderation_status == ModerationStatus.PENDING)
        .correlate(Book)
        .scalar_subquery()
    )
    books = select(pending.label("pending")).where(*ahead).subquery()
    return dict(session.execute(select(books.c.pending, func.count()).group_by(books.c.pending)).tuples().all())


def _mean_task_seconds(session: Session, step: JobStep) -> float | None:
    """The mean duration of the step's latest runs that did the work (a replayed duplicate did none)."""
    recent = (
        select(JobRun.duration_ms)
        .where(
            JobRun.step == step,
            JobRun.status == JobStatus.SUCCEEDED,
            JobRun.provider.is_not(None),
            JobRun.duration_ms.is_not(None),
        )
        .order_by(JobRun.finished_at.desc())
        .limit(RECENT_RUNS)
        .subquery()
    )
    mean_ms = session.execute(select(func.avg(recent.c.duration_ms))).scalar_one()
    return None if mean_ms is None else float(mean_ms) / 1000
