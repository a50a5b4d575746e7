"""Start the state machine for a book: full generation, illustration after STORY_READY, or a retry of
the failed pages.

A start has two parts, and the route that owns the request's transaction runs them in order: `plan_*`
checks the book, moves it on and records the execution it will start (its ARN is fixed by its name,
{bookId}-{attempt}, so the same start can never run twice); the route commits; then `launch` calls
StartExecution. A worker therefore never sees a book its execution does not match, and a failed commit
leaves no orphan execution. If the launch fails, `record_launch_failure` fails the book.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from sqlalchemy.orm import Session

from storywink.db.tables import Book, User
from storywink.domain import rules
from storywink.domain.enums import BookStatus, ModerationStatus, Plan
from storywink.domain.errors import Conflict, ServiceUnavailable
from storywink.domain.execution import ExecutionInput, GenerationMode, Priority, execution_name
from storywink.domain.generation_rules import (
    PageState,
    check_can_generate,
    check_can_illustrate,
    check_can_render_pdf,
    pages_to_retry,
)
from storywink.flags import FlagStore
from storywink.observability import logger
from storywink.services.status import BookStatusService, StatusUpdate

# A start is committed, then launched at once: an execution still missing this long after its book last
# changed never started (the container died between the commit and StartExecution).
LAUNCH_GRACE = timedelta(minutes=2)
NOT_STARTED = "NOT_STARTED"


@dataclass(frozen=True)
class PlannedStart:
    execution_arn: str
    execution_name: str
    attempt: int
    mode: GenerationMode
    input: ExecutionInput


class Generation:
    """The generation pipeline as the API sees it: its state machine and the flags that shape a start."""

    def __init__(self, stepfunctions: Any, state_machine_arn: str | None, flags: FlagStore) -> None:
        self._sfn = stepfunctions
        self._state_machine_arn = state_machine_arn
        self._flags = flags

    def plan_generation(self, session: Session, book: Book, correlation_id: str) -> PlannedStart:
        self.require_not_running(session, book)
        check_can_generate(book.status, len(book.pages))
        status_service = BookStatusService(session)
        for page in book.pages:
            page.illustration_key = None
            status_service.update_status(
                book.id, StatusUpdate("page.reset", page_id=page.id, page_status=ModerationStatus.PENDING)
            )
        book.pdf_key = None
        started = StatusUpdate("generation.started", book_status=BookStatus.GENERATING)
        return self._plan(session, book, started, "FULL", [], correlation_id)

    def plan_illustration(self, session: Session, book: Book, correlation_id: str) -> PlannedStart:
        self.require_not_running(session, book)
        check_can_illustrate(book.status)
        page_ids = [page.id for page in sorted(book.pages, key=lambda p: p.page_number)]
        started = StatusUpdate("illustration.started", book_status=BookStatus.ILLUSTRATING)
        return self._plan(session, book, started, "ILLUSTRATE", page_ids, correlation_id)

    def plan_retry(self, session: Session, book: Book, correlation_id: str) -> PlannedStart:
        """Redo only the FAILED pages (OK and FLAGGED pages are neither touched nor re-sent), then
        re-finalize and re-render the PDF."""
        self.require_not_running(session, book)
        failed = pages_to_retry(
            book.status,
            [(page, PageState(page.page_number, page.moderation_status, page.text is not None)) for page in book.pages],
        )
        status_service = BookStatusService(session)
        for page in failed:
            status_service.update_status(
                book.id, StatusUpdate("page.retry", page_id=page.id, page_status=ModerationStatus.PENDING)
            )
        started = StatusUpdate("retry.started", book_status=BookStatus.ILLUSTRATING)
        return self._plan(session, book, started, "REDO_PAGES", [page.id for page in failed], correlation_id)

    def plan_pdf_render(self, session: Session, book: Book, correlation_id: str) -> PlannedStart:
        """Render a finished book's PDF again through the state machine's PDF step (nothing else is redone);
        the step sets the book's status back to what it was, with the new PDF."""
        self.require_not_running(session, book)
        check_can_render_pdf(book.status)
        outcome = book.status.value
        started = StatusUpdate("pdf.render.started", book_status=BookStatus.ILLUSTRATING)
        return self._plan(session, book, started, "RENDER_PDF", [], correlation_id, outcome=outcome)

    def launch(self, planned: PlannedStart) -> None:
        """StartExecution for a start the caller has committed; ServiceUnavailable if it does not start."""
        try:
            self._sfn.start_execution(
                stateMachineArn=self._require_state_machine(),
                name=planned.execution_name,
                input=planned.input.to_json(),
            )
        except Exception as exc:
            logger.exception("execution did not start", extra={"bookId": str(planned.input.book_id), "mode": planned.mode})
            raise ServiceUnavailable(
                "The generation could not be started; please try again.", code="PIPELINE_UNAVAILABLE"
            ) from exc
        logger.info(
            "execution started", extra={"action": "generation.start", "bookId": str(planned.input.book_id), "mode": planned.mode}
        )

    def record_launch_failure(self, session: Session, book: Book) -> None:
        fail_book(session, book, "The generation could not start.")

    def _plan(
        self,
        session: Session,
        book: Book,
        started: StatusUpdate,
        mode: GenerationMode,
        page_ids: list,
        correlation_id: str,
        outcome: str | None = None,
    ) -> PlannedStart:
        """Record the execution a start will run, and move the book to its running status (``started``)."""
        state_machine_arn = self._require_state_machine()
        # The line its tasks will wait in, set first: the start's own event already shows its place there.
        owner = session.get(User, book.owner_id)
        plan = owner.plan if owner is not None else Plan.FREE
        priority: Priority = "premium" if self._runs_on_priority_queues(plan) else "standard"
        book.queue_priority = priority
        BookStatusService(session).update_status(book.id, started)
        book.generation_attempt += 1
        attempt = book.generation_attempt
        name = execution_name(book.id, attempt)
        planned = PlannedStart(
            execution_arn=execution_arn(state_machine_arn, name),
            execution_name=name,
            attempt=attempt,
            mode=mode,
            input=ExecutionInput(
                book_id=book.id,
                user_id=book.owner_id,
                mode=mode,
                auto_illustrate=book.auto_illustrate,
                page_ids=page_ids,
                attempt=attempt,
                correlation_id=correlation_id or name,
                priority=priority,
                plan=plan.value,
                outcome=outcome,
            ),
        )
        book.execution_arn = planned.execution_arn
        return planned

    def _require_state_machine(self) -> str:
        if not self._state_machine_arn:
            raise ServiceUnavailable("The generation pipeline is not configured.", code="PIPELINE_NOT_CONFIGURED")
        return self._state_machine_arn

    def require_not_running(self, session: Session, book: Book) -> None:
        if book.status not in rules.RUNNING_STATUSES:
            return
        ended = self.ended_execution(book.execution_arn, book.updated_at)
        if ended is None:
            raise Conflict(
                "Generation is already running for this book.",
                code="GENERATION_IN_PROGRESS",
                details={"status": book.status.value, "executionArn": book.execution_arn},
            )
        repair_ended(session, book, ended)

    def ended_execution(self, execution_arn: str | None, last_changed: datetime | None) -> str | None:
        """How the execution of a book marked running ended: its status, or NOT_STARTED for one still missing
        LAUNCH_GRACE after the book last changed; None while it runs or when Step Functions cannot say. Takes
        what it needs as values, so the maintenance job asks with no transaction open."""
        if not execution_arn:
            return None
        try:
            execution = self._sfn.describe_execution(executionArn=execution_arn)
        except ClientError as error:
            missing = error.response.get("Error", {}).get("Code") == "ExecutionDoesNotExist"
            if missing and last_changed is not None and last_changed < datetime.now(UTC) - LAUNCH_GRACE:
                return NOT_STARTED
            return None
        return None if execution["status"] == "RUNNING" else execution["status"]

    def _runs_on_priority_queues(self, plan: Plan) -> bool:
        """Premium books run on the priority queues (the state machine picks them) while the priority_queues
        flag says so; without the flag document, premium still means priority."""
        return self._flags.enabled("priority_queues", {"plan": plan.value}, default=plan == Plan.PREMIUM)


def repair_ended(session: Session, book: Book, ended: str) -> None:
    """A book marked running whose execution is over (stopped by an operator, an error the catch-all cannot
    catch, a start whose launch never happened) would block every start forever: record it FAILED."""
    reason = "The generation did not start." if ended == NOT_STARTED else f"The generation ended {ended}."
    logger.warning(
        "book repaired: its execution had ended", extra={"action": "generation.repair", "bookId": str(book.id), "ended": ended}
    )
    fail_book(session, book, reason)


def fail_book(session: Session, book: Book, reason: str) -> None:
    """FAILED, with pages that were waiting for an illustration FAILED too, so a retry can pick them up."""
    status_service = BookStatusService(session)
    for page in book.pages:
        if page.moderation_status == ModerationStatus.PENDING and page.text is not None:
            status_service.update_status(
                book.id, StatusUpdate("page.failed", page_id=page.id, page_status=ModerationStatus.FAILED, reason=reason)
            )
    status_service.update_status(book.id, StatusUpdate("book.failed", book_status=BookStatus.FAILED, reason=reason))
    session.flush()


def execution_arn(state_machine_arn: str, name: str) -> str:
    # arn:aws:states:region:account:stateMachine:Name -> arn:aws:states:region:account:execution:Name:name
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"
