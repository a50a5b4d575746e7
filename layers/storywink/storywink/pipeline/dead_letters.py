"""Dead-lettered step messages: record them, fail their task token so the execution moves on at once,
and count them for the alarm. A message lands here after maxReceiveCount failed deliveries."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select

from storywink.db.engine import session_scope
from storywink.db.tables import Book, JobRun
from storywink.domain.enums import BookStatus, JobStatus, JobStep
from storywink.domain.rules import RUNNING_STATUSES
from storywink.observability import logger, metrics
from storywink.pipeline.callbacks import report_failure, report_success
from storywink.pipeline.jobs import token_hash
from storywink.services.status import BookStatusService, StatusUpdate

DEAD_LETTERED = "Worker.DeadLettered"
# Queue names carry the template's logical id (storywink-dev-StoryDeadLetterQueue-1A2B3C).
QUEUE_STEPS = {
    "StoryDeadLetterQueue": JobStep.STORY,
    "IllustrationDeadLetterQueue": JobStep.ILLUSTRATION,
    "FinalizeDeadLetterQueue": JobStep.FINALIZE,
    "PdfDeadLetterQueue": JobStep.PDF,
}


def step_of_queue(queue_arn: str) -> JobStep | None:
    name = queue_arn.rsplit(":", 1)[-1]
    return next((step for marker, step in QUEUE_STEPS.items() if marker in name), None)


def _uuid(value: Any) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None


def handle_dead_letter(message_id: str, body: str, queue_arn: str, receive_count: int) -> None:
    step = step_of_queue(queue_arn)
    try:
        task = json.loads(body)
        task = task if isinstance(task, dict) else {}
    except ValueError:
        task = {}
    token = task.get("taskToken")
    book_id, page_id = _uuid(task.get("bookId")), _uuid(task.get("pageId"))
    cause = (
        f"The {step.value.lower() if step else 'step'} message {message_id} kept failing and was dead-lettered"
        f" (received {receive_count} times)."
    )
    logger.warning("dead-lettered message", extra={"bookId": str(book_id), "step": step, "messageId": message_id})
    metrics.add_metric(name="DeadLetteredMessages", unit="Count", value=1)

    replay = None
    if book_id is not None and step is not None:
        replay = _record(step, book_id, page_id, token, message_id, body, cause, fail_book=step == JobStep.FINALIZE)
    if token:
        # The execution is told first thing that this task is dead (or, if the work had in fact
        # finished and only its report was lost, what it produced).
        if replay is not None:
            report_success(token, replay)
        else:
            report_failure(token, DEAD_LETTERED, cause)


def _record(
    step: JobStep,
    book_id: UUID,
    page_id: UUID | None,
    token: str | None,
    message_id: str,
    body: str,
    cause: str,
    fail_book: bool,
) -> dict[str, Any] | None:
    """Record the dead letter (its body kept in the job run); returns the output to report instead
    of a failure when the task had actually succeeded."""
    with session_scope() as session:
        book = session.get(Book, book_id)
        if book is None:
            return None  # the book was deleted meanwhile: nothing to record against
        digest = token_hash(token) if token else None
        job = (
            session.execute(select(JobRun).where(JobRun.task_token_hash == digest)).scalar_one_or_none()
            if digest
            else None
        )
        if job is not None and job.status == JobStatus.SUCCEEDED:
            return job.output or {}
        if job is None:
            job = JobRun(book_id=book_id, page_id=page_id, step=step, task_token_hash=digest, deliveries=0)
            session.add(job)
        job.status = JobStatus.DEAD_LETTERED
        job.message_id = message_id
        job.error_code = DEAD_LETTERED
        job.error_message = cause
        job.output = {"deadLetter": body[:100_000]}  # nothing is lost: the message stays in job history
        job.finished_at = datetime.now(UTC)
        # The finalize worker is the one that records failures: if its own message died, do it here.
        if fail_book and book.status in RUNNING_STATUSES:
            BookStatusService(session).update_status(
                book_id, StatusUpdate("book.failed", book_status=BookStatus.FAILED, reason=cause)
            )
        return None
