"""BookStatusService: the only code that changes a book's or a page's generation status.

Each change is checked against the transition table and written together with the book's next event
(storywink.services.events) in the caller's transaction; the caller's unit of work commits it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session

from storywink.db.tables import Book, BookEvent, Page
from storywink.domain.enums import BookStatus, JobStep, ModerationStatus
from storywink.domain.errors import Conflict
from storywink.domain.rules import RUNNING_STATUSES
from storywink.domain.transitions import book_transition_allowed, page_transition_allowed
from storywink.observability import logger, metrics
from storywink.services.events import append_event

_APPROVED = "storywink.approved_statuses"
GUARDED = {Book: ("status",), Page: ("moderation_status",)}


class IllegalTransition(Conflict):
    code = "ILLEGAL_TRANSITION"


class StatusWriteOutsideService(RuntimeError):
    """A book or page status was changed without going through BookStatusService."""


@event.listens_for(Session, "before_flush")
def _only_the_status_service_writes_statuses(session: Session, flush_context: Any, instances: Any) -> None:
    approved = session.info.get(_APPROVED, {})
    for obj in list(session.new) + list(session.dirty):
        for column in GUARDED.get(type(obj), ()):
            value = getattr(obj, column)
            changed = obj in session.new or inspect(obj).attrs[column].history.has_changes()
            initial = obj in session.new and value in (None, BookStatus.DRAFT, ModerationStatus.PENDING)
            if changed and not initial and approved.get((type(obj).__name__, obj.id, column)) != value:
                raise StatusWriteOutsideService(
                    f"{type(obj).__name__}.{column} may only be changed by BookStatusService (tried {value})"
                )


@event.listens_for(Session, "after_flush")
def _forget_approvals(session: Session, flush_context: Any) -> None:
    session.info.pop(_APPROVED, None)


@dataclass(frozen=True)
class StatusUpdate:
    event_type: str
    book_status: BookStatus | None = None
    reason: str | None = None
    page_id: UUID | None = None
    page_status: ModerationStatus | None = None
    data: dict[str, Any] = field(default_factory=dict)


class BookStatusService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def update_status(self, book_id: UUID, update: StatusUpdate) -> BookEvent | None:
        """Apply ``update``; returns the appended event, or None when it changes nothing (a redelivery)."""
        book = self._lock_book(book_id)
        changed = False
        if update.book_status is not None and update.book_status != book.status:
            self._check(book_transition_allowed(book.status, update.book_status), book, update, book.status)
            book.status = update.book_status
            book.status_reason = update.reason
            # A running status starts a wait for its step's capacity; work_started (or the next status) ends it.
            book.queued_at = func.clock_timestamp() if update.book_status in RUNNING_STATUSES else None
            self._approve(book, "status", update.book_status)
            changed = True
        if update.page_id is not None and update.page_status is not None:
            page = self.session.execute(
                select(Page)
                .where(Page.id == update.page_id, Page.book_id == book_id)
                .with_for_update(key_share=True)
                .execution_options(populate_existing=True)
            ).scalar_one()
            if page.moderation_status != update.page_status:
                self._check(
                    page_transition_allowed(page.moderation_status, update.page_status),
                    book,
                    update,
                    page.moderation_status,
                )
                page.moderation_status = update.page_status
                self._approve(page, "moderation_status", update.page_status)
                page.moderation_reason = update.reason if update.page_status != ModerationStatus.OK else None
                changed = True
        if not changed and not update.data:
            return None
        return self._append_event(book, update)

    def work_started(self, book_id: UUID, step: JobStep) -> BookEvent | None:
        """A worker claimed a task of the step the book waits for: the book leaves its line, with one
        `work.started` event whichever of its tasks comes first (None for the others)."""
        book = self._lock_book(book_id)
        if book.queued_at is None:
            return None
        book.queued_at = None
        return append_event(self.session, book, "work.started", {"step": step.value})

    def _approve(self, obj: Any, column: str, value: Any) -> None:
        self.session.info.setdefault(_APPROVED, {})[(type(obj).__name__, obj.id, column)] = value

    def _lock_book(self, book_id: UUID) -> Book:
        """Lock the book row and re-read it: concurrent workers serialise here, so sequence numbers never collide.

        FOR NO KEY UPDATE, not FOR UPDATE: inserting a job run or an event takes a KEY SHARE lock on the
        book (the foreign key), and two transactions that each hold one would deadlock upgrading to FOR
        UPDATE. A status change never changes the key, so it needs no more than this."""
        return self.session.execute(
            select(Book).where(Book.id == book_id).with_for_update(key_share=True).execution_options(populate_existing=True)
        ).scalar_one()

    def _check(self, allowed: bool, book: Book, update: StatusUpdate, current: Any) -> None:
        if allowed:
            return
        target = update.book_status if update.page_status is None else update.page_status
        logger.warning(
            "illegal status transition rejected",
            extra={"bookId": str(book.id), "from": str(current), "to": str(target), "event": update.event_type},
        )
        metrics.add_metric(name="IllegalStatusTransition", unit="Count", value=1)
        raise IllegalTransition(
            f"Cannot move from {current} to {target}.",
            details={"from": str(current), "to": str(target), "pageId": str(update.page_id) if update.page_id else None},
        )

    def _append_event(self, book: Book, update: StatusUpdate) -> BookEvent:
        payload: dict[str, Any] = dict(update.data)
        if update.reason:
            payload["reason"] = update.reason
        if update.page_id is not None:
            payload["pageId"] = str(update.page_id)
            if update.page_status is not None:
                payload["pageStatus"] = update.page_status.value
        return append_event(self.session, book, update.event_type, payload)
