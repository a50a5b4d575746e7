"""BookStatusService: the only code that changes a book's or a page's generation status.

Each change is checked against the transition table, written together with the next BookEvent
(per-book sequence, no gaps) in the caller's transaction, and published to subscribers after commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from storywink.db.tables import Book, BookEvent, Page
from storywink.domain.enums import BookStatus, ModerationStatus
from storywink.domain.errors import Conflict
from storywink.domain.progress import BookProgress
from storywink.domain.transitions import book_transition_allowed, page_transition_allowed
from storywink.observability import logger, metrics
from storywink.services.progress import compute_progress

Publisher = Callable[[BookEvent, BookProgress], None]
_publishers: list[Publisher] = []
_PENDING = "storywink.pending_events"
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


def register_publisher(publisher: Publisher) -> None:
    """Subscribers (WebSocket pushes, SSE wake-ups) receive each event after its transaction commits."""
    if publisher not in _publishers:
        _publishers.append(publisher)


def unregister_publisher(publisher: Publisher) -> None:
    if publisher in _publishers:
        _publishers.remove(publisher)


def _active_publishers() -> list[Publisher]:
    from storywink.realtime.live import configured_publisher

    live = configured_publisher()
    return list(_publishers) + ([live] if live is not None else [])


@event.listens_for(Session, "after_commit")
def _publish_committed(session: Session) -> None:
    pending = session.info.pop(_PENDING, [])
    if not pending:
        return
    publishers = _active_publishers()
    # One notification per book: the newest event (publishers deliver everything up to it anyway).
    latest = {book_event.book_id: (book_event, progress) for book_event, progress in pending}
    for book_event, progress in latest.values():
        for publisher in publishers:
            try:
                publisher(book_event, progress)
            except Exception:  # a subscriber's failure never undoes a committed status
                logger.exception("status publisher failed", extra={"bookId": str(book_event.book_id)})


@event.listens_for(Session, "after_rollback")
def _drop_uncommitted(session: Session) -> None:
    session.info.pop(_PENDING, None)


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
            self._approve(book, "status", update.book_status)
            changed = True
        if update.page_id is not None and update.page_status is not None:
            page = self.session.execute(
                select(Page)
                .where(Page.id == update.page_id, Page.book_id == book_id)
                .with_for_update()
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

    def record_event(self, book_id: UUID, event_type: str, data: dict[str, Any]) -> BookEvent:
        """An event that changes no status (e.g. the PDF is ready)."""
        book = self._lock_book(book_id)
        return self._append_event(book, StatusUpdate(event_type=event_type, data=data))

    def _approve(self, obj: Any, column: str, value: Any) -> None:
        self.session.info.setdefault(_APPROVED, {})[(type(obj).__name__, obj.id, column)] = value

    def _lock_book(self, book_id: UUID) -> Book:
        """Lock the book row and re-read it: concurrent workers serialise here, so sequence numbers never collide."""
        return self.session.execute(
            select(Book).where(Book.id == book_id).with_for_update().execution_options(populate_existing=True)
        ).scalar_one()

    def get_detailed_status(self, book_id: UUID) -> BookProgress:
        return compute_progress(self.session, self.session.get(Book, book_id))

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
        self.session.flush()
        progress = compute_progress(self.session, book)
        book.last_event_seq += 1
        payload: dict[str, Any] = {
            "type": update.event_type,
            "bookId": str(book.id),
            "status": book.status.value,
            "progress": progress.model_dump(by_alias=True, mode="json"),
            **update.data,
        }
        if update.reason:
            payload["reason"] = update.reason
        if update.page_id is not None:
            payload["pageId"] = str(update.page_id)
            if update.page_status is not None:
                payload["pageStatus"] = update.page_status.value
        book_event = BookEvent(book_id=book.id, seq=book.last_event_seq, type=update.event_type, payload=payload)
        self.session.add(book_event)
        self.session.flush()
        self.session.info.setdefault(_PENDING, []).append((book_event, progress))
        return book_event
