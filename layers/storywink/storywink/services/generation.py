"""Start the state machine for a book: full generation, or illustration after STORY_READY.

Execution names are {bookId}-{attempt}: the same start can never run twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from sqlalchemy.orm import Session

from storywink.aws import client
from storywink.config import get_settings
from storywink.db.tables import Book
from storywink.domain import rules
from storywink.domain.enums import BookStatus, ModerationStatus
from storywink.domain.errors import Conflict, ServiceUnavailable, ValidationFailed
from storywink.observability import logger
from storywink.services.status import BookStatusService, StatusUpdate

GENERATION_STARTABLE = frozenset({BookStatus.DRAFT, BookStatus.FAILED})


@dataclass(frozen=True)
class StartedExecution:
    execution_arn: str
    execution_name: str
    attempt: int
    mode: str


def _require_not_running(book: Book) -> None:
    if book.status in rules.RUNNING_STATUSES:
        raise Conflict(
            "Generation is already running for this book.",
            code="GENERATION_IN_PROGRESS",
            details={"status": book.status.value, "executionArn": book.execution_arn},
        )


def start_generation(session: Session, book: Book, correlation_id: str) -> StartedExecution:
    _require_not_running(book)
    if book.status not in GENERATION_STARTABLE:
        raise Conflict(
            f"A book that is {book.status.value} cannot be generated again; retry its failed pages instead.",
            code="BOOK_STATE_CONFLICT",
            details={"status": book.status.value},
        )
    if not book.pages:
        raise ValidationFailed("Add at least one photo before generating the book.", code="BOOK_HAS_NO_PHOTOS")
    status_service = BookStatusService(session)
    for page in book.pages:
        page.illustration_key = None
        status_service.update_status(
            book.id, StatusUpdate("page.reset", page_id=page.id, page_status=ModerationStatus.PENDING)
        )
    book.pdf_key = None
    status_service.update_status(book.id, StatusUpdate("generation.started", book_status=BookStatus.GENERATING))
    return _start(book, "FULL", [], correlation_id)


def start_illustration(session: Session, book: Book, correlation_id: str) -> StartedExecution:
    _require_not_running(book)
    if book.status != BookStatus.STORY_READY:
        raise Conflict(
            "Illustration starts from a book whose story is ready.",
            code="BOOK_STATE_CONFLICT",
            details={"status": book.status.value},
        )
    BookStatusService(session).update_status(
        book.id, StatusUpdate("illustration.started", book_status=BookStatus.ILLUSTRATING)
    )
    page_ids = [str(page.id) for page in sorted(book.pages, key=lambda p: p.page_number)]
    return _start(book, "ILLUSTRATE", page_ids, correlation_id)


def start_retry(session: Session, book: Book, correlation_id: str) -> StartedExecution:
    """Redo only the FAILED pages (OK and FLAGGED pages are neither touched nor re-sent), then
    re-finalize and re-render the PDF."""
    _require_not_running(book)
    if book.status not in (BookStatus.PARTIAL, BookStatus.FAILED):
        raise Conflict(
            f"A book that is {book.status.value} has nothing to retry.",
            code="BOOK_STATE_CONFLICT",
            details={"status": book.status.value},
        )
    failed = [p for p in sorted(book.pages, key=lambda p: p.page_number) if p.moderation_status == ModerationStatus.FAILED]
    if not failed or any(page.text is None for page in book.pages):
        raise ValidationFailed(
            "There are no failed pages to retry." if not failed else "The story was never written: generate the book again.",
            code="NOTHING_TO_RETRY",
            details={"status": book.status.value},
        )
    status_service = BookStatusService(session)
    for page in failed:
        status_service.update_status(
            book.id, StatusUpdate("page.retry", page_id=page.id, page_status=ModerationStatus.PENDING)
        )
    status_service.update_status(book.id, StatusUpdate("retry.started", book_status=BookStatus.ILLUSTRATING))
    return _start(book, "REDO_PAGES", [str(page.id) for page in failed], correlation_id)


def _start(book: Book, mode: str, page_ids: list[str], correlation_id: str) -> StartedExecution:
    settings = get_settings()
    if not settings.state_machine_arn:
        raise ServiceUnavailable("The generation pipeline is not configured.", code="PIPELINE_NOT_CONFIGURED")
    book.generation_attempt += 1
    name = f"{book.id}-{book.generation_attempt}"
    execution_input: dict[str, Any] = {
        "bookId": str(book.id),
        "userId": book.owner_id,
        "mode": mode,
        "autoIllustrate": book.auto_illustrate,
        "pageIds": page_ids,
        "attempt": book.generation_attempt,
        "correlationId": correlation_id,
    }
    try:
        response = client("stepfunctions").start_execution(
            stateMachineArn=settings.state_machine_arn, name=name, input=json.dumps(execution_input)
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
            raise Conflict("This generation was already started.", code="GENERATION_IN_PROGRESS") from exc
        raise
    book.execution_arn = response["executionArn"]
    logger.info("execution started", extra={"action": "generation.start", "bookId": str(book.id), "mode": mode})
    return StartedExecution(response["executionArn"], name, book.generation_attempt, mode)
