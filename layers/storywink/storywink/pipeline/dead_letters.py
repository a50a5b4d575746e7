"""Dead-lettered step messages: record them, fail their task token so the execution moves on at once,
and count them for the alarm. A message lands here after maxReceiveCount failed deliveries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from storywink.db.engine import Database
from storywink.db.tables import Book, JobRun
from storywink.domain.enums import BookStatus, JobStatus, JobStep
from storywink.domain.execution import TaskReference
from storywink.domain.rules import RUNNING_STATUSES
from storywink.observability import logger, metrics
from storywink.pipeline.callbacks import TaskCallbacks
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


@dataclass(frozen=True)
class _Verdict:
    report: str  # "success", "failure" or "nothing"
    output: dict[str, Any] | None = None


def handle_dead_letter(
    database: Database, callbacks: TaskCallbacks, message_id: str, body: str, queue_arn: str, receive_count: int
) -> None:
    step = step_of_queue(queue_arn)
    task = TaskReference.read(body)
    cause = (
        f"The {step.value.lower() if step else 'step'} message {message_id} kept failing and was dead-lettered"
        f" (received {receive_count} times)."
    )
    logger.warning("dead-lettered message", extra={"bookId": str(task.book_id), "step": step, "messageId": message_id})
    metrics.add_metric(name="DeadLetteredMessages", unit="Count", value=1)

    verdict = _Verdict("failure")
    if task.book_id is not None and step is not None:
        verdict = _record(database, step, task, message_id, body, cause, fail_book=step == JobStep.FINALIZE)
    if not task.task_token:
        return
    # The execution is told at once that this task is dead (or, if the work had in fact finished and only
    # its report was lost, what it produced). A task a live worker still holds is left to that worker.
    if verdict.report == "success":
        callbacks.success(task.task_token, verdict.output or {})
    elif verdict.report == "failure":
        callbacks.failure(task.task_token, DEAD_LETTERED, cause)


def _record(
    database: Database, step: JobStep, task: TaskReference, message_id: str, body: str, cause: str, fail_book: bool
) -> _Verdict:
    """Record the dead letter (its body kept in the job run) and decide what to tell the execution."""
    with database.unit_of_work() as session:
        book = session.get(Book, task.book_id)
        if book is None:
            return _Verdict("failure")  # the book was deleted meanwhile: nothing to record against
        digest = token_hash(task.task_token) if task.task_token else None
        job = (
            session.execute(select(JobRun).where(JobRun.task_token_hash == digest).with_for_update()).scalar_one_or_none()
            if digest
            else None
        )
        if job is not None and job.status == JobStatus.SUCCEEDED:
            return _Verdict("success", job.output or {})
        if job is not None and job.status == JobStatus.RUNNING and _lease_live(job):
            # Its copies were refused while a worker holds the task: that worker reports, or the sweeper does.
            return _Verdict("nothing")
        if job is None:
            job = JobRun(book_id=task.book_id, page_id=task.page_id, step=step, task_token_hash=digest, deliveries=0)
            session.add(job)
        job.status = JobStatus.DEAD_LETTERED
        job.message_id = message_id
        job.error_code = DEAD_LETTERED
        job.error_message = cause
        job.output = {"deadLetter": body[:100_000]}  # nothing is lost: the message stays in job history
        job.finished_at = datetime.now(UTC)
        job.lease_owner = job.lease_expires_at = job.task_token = None
        # The finalize worker is the one that records failures: if its own message died, do it here.
        if fail_book and book.status in RUNNING_STATUSES:
            BookStatusService(session).update_status(
                book.id, StatusUpdate("book.failed", book_status=BookStatus.FAILED, reason=cause)
            )
        return _Verdict("failure")


def _lease_live(job: JobRun) -> bool:
    return job.lease_expires_at is not None and job.lease_expires_at > datetime.now(UTC)
