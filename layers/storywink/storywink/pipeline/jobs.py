"""Job history and worker idempotency: one JobRun per Step Functions task token, held by a lease.

A message delivered twice carries the same token: the second delivery finds the finished JobRun and
reports its recorded outcome again instead of redoing the work. A copy that arrives while another holds
a live lease is refused (SQS delivers it again later). The holder renews its lease while it works; a
lease that runs out means the holder died, and the next delivery (or the sweeper) takes over.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from storywink.db.tables import Book, JobRun
from storywink.domain.enums import JobStatus, JobStep
from storywink.domain.execution import TaskMessage


class TaskInFlight(Exception):
    """Another delivery of this message is being processed right now."""


@dataclass(frozen=True)
class StepOutcome:
    output: dict[str, Any]
    provider: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class Claim:
    job_id: UUID
    owner: UUID | None = None  # this delivery's lease; None when it holds none
    replay: JobRun | None = None  # set when the task already finished: report this again
    in_flight: bool = False  # another delivery holds the task right now


def token_hash(task_token: str) -> str:
    return hashlib.sha256(task_token.encode()).hexdigest()


def _lease_end(seconds: float) -> Any:
    return func.now() + timedelta(seconds=seconds)


class JobLedger:
    """The job runs as the step runner sees them: claims, leases and outcomes, in the caller's session."""

    def __init__(self, lease_seconds: float) -> None:
        self.lease_seconds = lease_seconds

    def claim(
        self, session: Session, *, step: JobStep, task: TaskMessage, page_id: UUID | None, message_id: str | None
    ) -> Claim:
        return claim_job(
            session,
            step=step,
            book_id=task.book_id,
            page_id=page_id,
            task_token=task.task_token,
            attempt=task.retry_count + 1,
            message_id=message_id,
            lease_seconds=self.lease_seconds,
        )

    def lock_book(self, session: Session, book_id: UUID) -> bool:
        """Whether the book still exists, holding it (KEY SHARE) for the rest of the transaction."""
        found = session.execute(select(Book.id).where(Book.id == book_id).with_for_update(key_share=True)).scalar_one_or_none()
        return found is not None

    def superseded(self, session: Session, task: TaskMessage) -> bool:
        """A message from an earlier generation of its book (a regenerate or retry came since)."""
        attempt = session.execute(select(Book.generation_attempt).where(Book.id == task.book_id)).scalar_one_or_none()
        return attempt is not None and task.attempt < attempt

    def held(self, session: Session, job_id: UUID, owner: UUID) -> JobRun | None:
        return lock_held_job(session, job_id, owner)

    def renew(self, session: Session, job_id: UUID, owner: UUID) -> bool:
        return renew_lease(session, job_id, owner, self.lease_seconds)

    def finish(self, job: JobRun, status: JobStatus, **details: Any) -> None:
        finish_job(job, status, **details)

    def keep_outcome(self, job: JobRun, outcome: StepOutcome) -> None:
        keep_outcome(job, outcome)

    def release(self, session: Session, job_id: UUID, owner: UUID, error_message: str) -> None:
        release_job(session, job_id, owner, error_message)


def claim_job(
    session: Session,
    *,
    step: JobStep,
    book_id: UUID,
    page_id: UUID | None,
    task_token: str,
    attempt: int,
    message_id: str | None,
    lease_seconds: float,
) -> Claim:
    digest = token_hash(task_token)
    owner = uuid.uuid4()
    inserted = session.execute(
        insert(JobRun)
        .values(
            book_id=book_id,
            page_id=page_id,
            step=step,
            attempt=attempt,
            status=JobStatus.RUNNING,
            task_token_hash=digest,
            task_token=task_token,
            message_id=message_id,
            deliveries=1,
            lease_owner=owner,
            lease_expires_at=_lease_end(lease_seconds),
        )
        .on_conflict_do_nothing(index_elements=[JobRun.task_token_hash])
        .returning(JobRun.id)
    ).scalar_one_or_none()
    if inserted is not None:
        return Claim(job_id=inserted, owner=owner)

    job = session.execute(
        select(JobRun).where(JobRun.task_token_hash == digest).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    job.deliveries += 1
    if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
        return Claim(job_id=job.id, replay=job)
    held = job.lease_owner is not None and job.lease_expires_at is not None
    if job.status == JobStatus.RUNNING and held and job.lease_expires_at > datetime.now(UTC):
        return Claim(job_id=job.id, in_flight=True)  # the delivery is still counted
    # The previous holder died, released the lease after a crash, or the message was dead-lettered and
    # redriven: take the task over.
    job.status = JobStatus.RUNNING
    job.started_at = func.now()
    job.task_token = task_token
    job.lease_owner = owner
    job.lease_expires_at = _lease_end(lease_seconds)
    job.message_id = message_id
    return Claim(job_id=job.id, owner=owner)


def renew_lease(session: Session, job_id: UUID, owner: UUID, lease_seconds: float) -> bool:
    """Extend this holder's lease; False when the task is no longer its own (taken over or swept)."""
    renewed = session.execute(
        update(JobRun)
        .where(JobRun.id == job_id, JobRun.lease_owner == owner, JobRun.status == JobStatus.RUNNING)
        .values(lease_expires_at=_lease_end(lease_seconds))
    )
    return bool(renewed.rowcount)


def lock_held_job(session: Session, job_id: UUID, owner: UUID) -> JobRun | None:
    """The job row, locked, if this holder still holds it: a result that arrives after a takeover or a
    sweep is late, and changes nothing."""
    job = session.execute(
        select(JobRun).where(JobRun.id == job_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if job is None or job.status != JobStatus.RUNNING or job.lease_owner != owner:
        return None
    return job


def finish_job(
    job: JobRun,
    status: JobStatus,
    *,
    outcome: StepOutcome | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
) -> JobRun:
    job.status = status
    job.finished_at = datetime.now(UTC)
    job.duration_ms = int((job.finished_at - job.started_at).total_seconds() * 1000)
    job.error_code = error_code
    job.error_message = error_message[:4000] if error_message else None
    job.lease_owner = None
    job.lease_expires_at = None
    job.task_token = None  # the sweeper needs it only while the task runs
    if outcome is not None:
        keep_outcome(job, outcome)
    return job


def keep_outcome(job: JobRun, outcome: StepOutcome) -> JobRun:
    job.output = outcome.output
    job.provider = outcome.provider
    job.prompt_tokens = outcome.prompt_tokens
    job.completion_tokens = outcome.completion_tokens
    return job


def release_job(session: Session, job_id: UUID, owner: UUID, error_message: str) -> None:
    """A crash the worker saw: the row stays RUNNING with no holder. Its message is on its way back to the
    queue (the worker shortened its visibility), so the redelivery takes over at once; the sweeper leaves
    it alone, and if it never succeeds the dead-letter handler settles it."""
    job = lock_held_job(session, job_id, owner)
    if job is not None:
        job.lease_owner = None
        job.lease_expires_at = None
        job.error_code = "Worker.Crashed"
        job.error_message = error_message[:4000]
