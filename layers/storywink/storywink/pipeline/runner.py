"""Run one step for one task message: claim it, do the work in one transaction, report to Step Functions.

Provider errors are classified and reported with SendTaskFailure (the state machine owns retries).
Anything else is a crash: the message goes back to SQS, is redelivered, and ends in the DLQ if it keeps failing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from storywink.config import get_settings
from storywink.db.engine import session_scope
from storywink.db.tables import Book
from storywink.domain.enums import JobStatus, JobStep
from storywink.observability import logger, metrics
from storywink.pipeline.callbacks import report_failure, report_heartbeat, report_success
from storywink.pipeline.jobs import StepOutcome, TaskInFlight, claim_job, finish_job, release_job
from storywink.pipeline.messages import TaskMessage
from storywink.providers.errors import ProviderError

STALE_ATTEMPT = "Worker.StaleAttempt"
Work = Callable[[Session], StepOutcome]
OnProviderError = Callable[[Session, ProviderError], None]


def run_step(
    step: JobStep,
    task: TaskMessage,
    *,
    message_id: str | None,
    work: Work,
    page_id: UUID | None = None,
    on_provider_error: OnProviderError | None = None,
) -> None:
    # Thread-local keys: the local stack runs several workers on threads of one process.
    logger.thread_safe_clear_keys()
    logger.thread_safe_append_keys(bookId=str(task.book_id), correlationId=task.correlation_id, step=step.value)
    if page_id:
        logger.thread_safe_append_keys(pageId=str(page_id))
    with session_scope() as session:
        claim = claim_job(
            session,
            step=step,
            book_id=task.book_id,
            page_id=page_id,
            task_token=task.task_token,
            attempt=task.retry_count + 1,
            message_id=message_id,
            lease_seconds=get_settings().job_lease_seconds,
        )
    if claim.in_flight:
        raise TaskInFlight(f"another delivery of this {step.value.lower()} task is being processed")
    if claim.replay is None and _superseded(task):
        # A message from an earlier generation of this book (a regenerate or retry came since): drop it.
        with session_scope() as session:
            finish_job(session, claim.job_id, JobStatus.FAILED, error_code=STALE_ATTEMPT, error_message="superseded")
        report_failure(task.task_token, STALE_ATTEMPT, "A newer generation of this book has started.")
        return
    if claim.replay is not None:
        _replay(task.task_token, claim.replay.status, claim.replay.output, claim.replay.error_code, claim.replay.error_message)
        return

    started = time.perf_counter()
    try:
        report_heartbeat(task.task_token)
        with session_scope() as session:
            outcome = work(session)
            finish_job(session, claim.job_id, JobStatus.SUCCEEDED, outcome=outcome)
    except ProviderError as error:
        try:
            with session_scope() as session:
                if on_provider_error is not None:
                    on_provider_error(session, error)
                finish_job(session, claim.job_id, JobStatus.FAILED, error_code=error.error_name, error_message=str(error))
        except Exception as crash:
            with session_scope() as session:
                release_job(session, claim.job_id, f"{type(crash).__name__}: {crash}")
            raise
        metrics.add_metric(name=f"{step.value.title()}ProviderError", unit="Count", value=1)
        logger.warning("step failed", extra={"action": step.value, "error": error.error_name, "cause": str(error)})
        report_failure(task.task_token, error.error_name, str(error))
        return
    except Exception as crash:
        with session_scope() as session:
            release_job(session, claim.job_id, f"{type(crash).__name__}: {crash}")
        raise
    duration_ms = round((time.perf_counter() - started) * 1000)
    metrics.add_metric(name=f"{step.value.title()}Succeeded", unit="Count", value=1)
    logger.info("step succeeded", extra={"action": step.value, "duration": duration_ms})
    report_success(task.task_token, outcome.output)


def _superseded(task: TaskMessage) -> bool:
    with session_scope() as session:
        attempt = session.execute(select(Book.generation_attempt).where(Book.id == task.book_id)).scalar_one_or_none()
    return attempt is not None and task.attempt < attempt


def _replay(token: str, status: JobStatus, output: dict | None, error_code: str | None, message: str | None) -> None:
    logger.info("duplicate delivery: reporting the recorded outcome again", extra={"jobStatus": status.value})
    if status == JobStatus.SUCCEEDED:
        report_success(token, output or {})
    else:
        report_failure(token, error_code or "Worker.Failed", message or "")
