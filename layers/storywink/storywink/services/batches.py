"""Admin batches: one operation (render the PDF again, regenerate, retry the failed pages) on many books.

POST /v1/admin/batches records the batch and one QUEUED item per book, nothing more. The batch worker
(every minute) starts at most `BATCH_BOOKS_PER_MINUTE` queued items over all batches, each through the
same start as a parent's (storywink.services.starts: the same plan, admission, provider ceiling and queues;
exempt from the owners' quotas, as an operator's action), so a batch joins the parents' lines a few books at
a time and never crowds them out. The same run settles the RUNNING items whose execution has ended: DONE
when the book finished, FAILED with the book's reason otherwise. Every item moves in the transaction that
starts its book, so a crashed run neither loses nor doubles a book.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storywink.config import Settings
from storywink.db.engine import Database
from storywink.db.tables import Batch, BatchItem, Book, User
from storywink.domain import rules
from storywink.domain.enums import BookStatus
from storywink.domain.errors import AppError, Conflict, NotFound, ServiceUnavailable, ValidationFailed
from storywink.observability import logger
from storywink.services import starts
from storywink.services.generation import Generation

Operation = Literal["rerender-pdf", "regenerate", "retry-failed-pages"]
# Each operation is one of the pipeline's own starts.
PLANS: dict[str, str] = {
    "rerender-pdf": "plan_pdf_render",
    "regenerate": "plan_generation",
    "retry-failed-pages": "plan_retry",
}
QUEUED, RUNNING, DONE, FAILED = "QUEUED", "RUNNING", "DONE", "FAILED"
FINISHED_WELL = frozenset({BookStatus.COMPLETED, BookStatus.PARTIAL, BookStatus.STORY_READY})


@dataclass(frozen=True)
class Selection:
    book_ids: list[UUID] | None = None
    status: BookStatus | None = None
    user_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        if self.book_ids is not None:
            return {"bookIds": [str(book_id) for book_id in self.book_ids]}
        return {"filter": {k: v for k, v in (("status", self.status and self.status.value), ("userId", self.user_id)) if v}}


def create(
    session: Session, operation: Operation, selection: Selection, requested_by: str, max_books: int
) -> tuple[Batch, int]:
    """Record a batch and its books (in the order given, or oldest first for a filter) and say how many;
    refused when it holds no book or more than ``max_books``."""
    if selection.book_ids is not None:
        book_ids = list(dict.fromkeys(selection.book_ids))
    else:
        query = select(Book.id).order_by(Book.created_at, Book.id).limit(max_books + 1)
        if selection.status is not None:
            query = query.where(Book.status == selection.status)
        if selection.user_id is not None:
            query = query.where(Book.owner_id == selection.user_id)
        book_ids = list(session.execute(query).scalars())
    # A list of ids is the request's own (422 when too long); what a filter finds is the data's state now
    # (409: the same request may be fine later).
    refused = ValidationFailed if selection.book_ids is not None else Conflict
    if not book_ids:
        raise Conflict("The batch's filter selects no book.", code="BATCH_EMPTY")
    if len(book_ids) > max_books:
        raise refused(f"A batch may hold at most {max_books} books; narrow the selection.", code="BATCH_TOO_LARGE")
    batch = Batch(operation=operation, requested_by=requested_by, selection=selection.as_json())
    session.add(batch)
    session.flush()
    session.add_all(
        BatchItem(batch_id=batch.id, book_id=book_id, position=position, status=QUEUED)
        for position, book_id in enumerate(book_ids)
    )
    session.flush()
    logger.info("batch created", extra={"action": "batch.create", "batchId": str(batch.id), "books": len(book_ids)})
    return batch, len(book_ids)


def progress(session: Session, batch_id: UUID) -> dict[str, Any]:
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise NotFound("No such batch.", code="BATCH_NOT_FOUND")
    items = session.execute(
        select(BatchItem).where(BatchItem.batch_id == batch_id).order_by(BatchItem.position)
    ).scalars().all()
    counts = {state: sum(1 for item in items if item.status == state) for state in (QUEUED, RUNNING, DONE, FAILED)}
    return {
        "id": str(batch.id),
        "operation": batch.operation,
        "selection": batch.selection,
        "createdAt": batch.created_at,
        "finishedAt": batch.finished_at,
        "total": len(items),
        "queued": counts[QUEUED],
        "running": counts[RUNNING],
        "done": counts[DONE],
        "failed": counts[FAILED],
        "books": [
            {
                "bookId": str(item.book_id),
                "status": item.status,
                "outcomeCode": item.outcome_code,
                "outcomeMessage": item.outcome_message,
                "startedAt": item.started_at,
                "finishedAt": item.finished_at,
            }
            for item in items
        ],
    }


@dataclass
class RunReport:
    started: int = 0
    refused: int = 0
    settled: int = 0


def run(database: Database, pipeline: Generation, settings: Settings, limit: int) -> RunReport:
    """One run of the batch worker: settle what has ended, then start up to ``limit`` queued books."""
    report = RunReport()
    report.settled = _settle(database)
    for _ in range(limit):
        outcome = _start_next(database, pipeline, settings)
        if outcome is None:
            break
        if outcome:
            report.started += 1
        else:
            report.refused += 1
    _close_finished(database)
    logger.info("batch run", extra={"action": "batch.run", **report.__dict__})
    return report


def _start_next(database: Database, pipeline: Generation, settings: Settings) -> bool | None:
    """Start the next queued book of the oldest batch: True started, False refused, None nothing queued."""
    with database.unit_of_work() as session:
        claimed = session.execute(
            select(BatchItem, Batch.operation)
            .join(Batch, Batch.id == BatchItem.batch_id)
            .where(BatchItem.status == QUEUED)
            .order_by(Batch.created_at, BatchItem.batch_id, BatchItem.position)
            .limit(1)
            .with_for_update(of=BatchItem, skip_locked=True)
        ).first()
        if claimed is None:
            return None
        item, operation = claimed
        key = (item.batch_id, item.book_id)
        book = session.execute(select(Book).where(Book.id == item.book_id).with_for_update()).scalar_one_or_none()
        owner = session.get(User, book.owner_id) if book is not None else None
        if book is None or owner is None:
            _finish(item, FAILED, "BOOK_NOT_FOUND", "The book no longer exists.")
            return False
        try:
            planned = starts.begin(
                session, settings, book, owner, getattr(pipeline, PLANS[operation]), f"batch-{item.batch_id}", exempt=True
            )
        except AppError as refusal:
            session.rollback()  # nothing of the refused start stays
            item = session.execute(
                select(BatchItem).where(BatchItem.batch_id == key[0], BatchItem.book_id == key[1]).with_for_update()
            ).scalar_one()
            if item.status == QUEUED:
                _finish(item, FAILED, refusal.code, refusal.message)
            return False
        item.status = RUNNING
        item.execution_arn = planned.execution_arn
        item.started_at = func.now()
        session.commit()  # named step: the start and its item are durable before the execution exists
        try:
            starts.launch(session, pipeline, book, planned)
        except ServiceUnavailable as failure:
            _finish(session.get(BatchItem, key), FAILED, failure.code, failure.message)
            return False
    return True


def _settle(database: Database) -> int:
    """RUNNING items whose book has left its running status (or whose book was started again or deleted)."""
    settled = 0
    with database.unit_of_work() as session:
        rows = session.execute(
            select(BatchItem, Book)
            .outerjoin(Book, Book.id == BatchItem.book_id)
            .where(BatchItem.status == RUNNING)
            .with_for_update(of=BatchItem, skip_locked=True)
        ).all()
        for item, book in rows:
            if book is None:
                _finish(item, FAILED, "BOOK_NOT_FOUND", "The book was deleted.")
            elif book.execution_arn != item.execution_arn:
                _finish(item, FAILED, "SUPERSEDED", "The book was started again by someone else.")
            elif book.status in rules.RUNNING_STATUSES:
                continue
            elif book.status in FINISHED_WELL:
                _finish(item, DONE, book.status.value, None)
            else:
                _finish(item, FAILED, book.status.value, book.status_reason)
            settled += 1
    return settled


def _close_finished(database: Database) -> None:
    with database.unit_of_work() as session:
        open_items = select(BatchItem.batch_id).where(BatchItem.status.in_((QUEUED, RUNNING)))
        for batch in session.execute(
            select(Batch).where(Batch.finished_at.is_(None), Batch.id.not_in(open_items)).with_for_update(skip_locked=True)
        ).scalars():
            batch.finished_at = datetime.now(UTC)


def _finish(item: BatchItem, status: str, code: str | None, message: str | None) -> None:
    item.status = status
    item.outcome_code = code
    item.outcome_message = message
    item.finished_at = func.now()
