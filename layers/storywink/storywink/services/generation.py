"""Start the state machine for a book: full generation, or illustration after STORY_READY.

Execution names are {bookId}-{attempt}: the same start can never run twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from sqlalchemy.orm import Session

from storywink.aws import client
from storywink.config import get_settings
from storywink.db.tables import Book, User
from storywink.domain import rules
from storywink.domain.enums import BookStatus, ModerationStatus, Plan
from storywink.domain.errors import Conflict, ServiceUnavailable, ValidationFailed
from storywink.flags import feature_enabled
from storywink.observability import logger
from storywink.services.status import BookStatusService, StatusUpdate

GENERATION_STARTABLE = frozenset({BookStatus.DRAFT, BookStatus.FAILED})


@dataclass(frozen=True)
class StartedExecution:
    execution_arn: str
    execution_name: str
    attempt: int
    mode: str


def _require_not_running(session: Session, book: Book) -> None:
    if book.status in rules.RUNNING_STATUSES and not _execution_ended(session, book):
        raise Conflict(
            "Generation is already running for this book.",
            code="GENERATION_IN_PROGRESS",
            details={"status": book.status.value, "executionArn": book.execution_arn},
        )


def _execution_ended(session: Session, book: Book) -> bool:
    """A book marked running whose execution is over (stopped by an operator, or an error the catch-all
    cannot catch) would block every start forever: record it FAILED and let the caller go on."""
    if not book.execution_arn:
        return False
    try:
        execution = client("stepfunctions").describe_execution(executionArn=book.execution_arn)
    except ClientError:
        return False
    if execution["status"] == "RUNNING":
        return False
    _fail_book(session, book, f"The generation ended {execution['status']}.")
    return True


def _fail_book(session: Session, book: Book, reason: str) -> None:
    """FAILED, with pages that were waiting for an illustration FAILED too, so a retry can pick them up."""
    status_service = BookStatusService(session)
    for page in book.pages:
        if page.moderation_status == ModerationStatus.PENDING and page.text is not None:
            status_service.update_status(
                book.id, StatusUpdate("page.failed", page_id=page.id, page_status=ModerationStatus.FAILED, reason=reason)
            )
    status_service.update_status(book.id, StatusUpdate("book.failed", book_status=BookStatus.FAILED, reason=reason))
    session.flush()


def start_generation(
    session: Session, book: Book, correlation_id: str, before_commit: BeforeCommit | None = None
) -> StartedExecution:
    _require_not_running(session, book)
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
    return _start(session, book, "FULL", [], correlation_id, before_commit)


def start_illustration(
    session: Session, book: Book, correlation_id: str, before_commit: BeforeCommit | None = None
) -> StartedExecution:
    _require_not_running(session, book)
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
    return _start(session, book, "ILLUSTRATE", page_ids, correlation_id, before_commit)


def start_retry(
    session: Session, book: Book, correlation_id: str, before_commit: BeforeCommit | None = None
) -> StartedExecution:
    """Redo only the FAILED pages (OK and FLAGGED pages are neither touched nor re-sent), then
    re-finalize and re-render the PDF."""
    _require_not_running(session, book)
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
    return _start(session, book, "REDO_PAGES", [str(page.id) for page in failed], correlation_id, before_commit)


BeforeCommit = Callable[[StartedExecution], None]


def _start(
    session: Session,
    book: Book,
    mode: str,
    page_ids: list[str],
    correlation_id: str,
    before_commit: BeforeCommit | None,
) -> StartedExecution:
    settings = get_settings()
    if not settings.state_machine_arn:
        raise ServiceUnavailable("The generation pipeline is not configured.", code="PIPELINE_NOT_CONFIGURED")
    book.generation_attempt += 1
    attempt = book.generation_attempt
    name = f"{book.id}-{attempt}"
    execution_input: dict[str, Any] = {
        "bookId": str(book.id),
        "userId": book.owner_id,
        "mode": mode,
        "autoIllustrate": book.auto_illustrate,
        "pageIds": page_ids,
        "attempt": attempt,
        "correlationId": correlation_id,
        "priority": "premium" if _runs_on_priority_queues(session, book) else "standard",
    }
    # The execution's ARN is fixed by its name, so everything about the start is recorded — status,
    # attempt, ARN, the caller's idempotency record — and committed before the execution exists: a
    # worker never sees a book its execution does not match, and a failed commit leaves no orphan.
    started = StartedExecution(execution_arn(settings.state_machine_arn, name), name, attempt, mode)
    book.execution_arn = started.execution_arn
    if before_commit is not None:
        before_commit(started)
    session.commit()
    try:
        client("stepfunctions").start_execution(
            stateMachineArn=settings.state_machine_arn, name=name, input=json.dumps(execution_input)
        )
    except Exception as exc:
        _fail_book(session, book, "The generation could not start.")
        session.commit()
        logger.exception("execution did not start", extra={"bookId": str(book.id), "mode": mode})
        raise ServiceUnavailable("The generation could not be started; please try again.", code="PIPELINE_UNAVAILABLE") from exc
    logger.info("execution started", extra={"action": "generation.start", "bookId": str(book.id), "mode": mode})
    return started


def _runs_on_priority_queues(session: Session, book: Book) -> bool:
    """Premium books run on the priority queues (the state machine picks them) while the priority_queues
    flag says so; without the flag document, premium still means priority."""
    plan = _owner_plan(session, book)
    return feature_enabled("priority_queues", {"plan": plan.value}, default=plan == Plan.PREMIUM)


def _owner_plan(session: Session, book: Book) -> Plan:
    owner = session.get(User, book.owner_id)
    return owner.plan if owner is not None else Plan.FREE


def execution_arn(state_machine_arn: str, name: str) -> str:
    # arn:aws:states:region:account:stateMachine:Name -> arn:aws:states:region:account:execution:Name:name
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"
