"""Job history and worker idempotency: one JobRun per Step Functions task token.

A message delivered twice carries the same token: the second delivery finds the finished JobRun and
reports its recorded outcome again instead of redoing the work. A copy that arrives while another is
still working is refused (SQS delivers it again later); a worker that died mid-task loses its lease.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from storywink.db.tables import JobRun
from storywink.domain.enums import JobStatus, JobStep


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
    replay: JobRun | None = None  # set when the task already finished: report this again
    in_flight: bool = False  # another delivery holds the task right now


def token_hash(task_token: str) -> str:
    return hashlib.sha256(task_token.encode()).hexdigest()


def claim_job(
    session: Session,
    *,
    step: JobStep,
    book_id: UUID,
    page_id: UUID | None,
    task_token: str,
    attempt: int,
    message_id: str | None,
    lease_seconds: int,
) -> Claim:
    digest = token_hash(task_token)
    inserted = session.execute(
        insert(JobRun)
        .values(
            book_id=book_id,
            page_id=page_id,
            step=step,
            attempt=attempt,
            status=JobStatus.RUNNING,
            task_token_hash=digest,
            message_id=message_id,
            deliveries=1,
        )
        .on_conflict_do_nothing(index_elements=[JobRun.task_token_hash])
        .returning(JobRun.id)
    ).scalar_one_or_none()
    if inserted is not None:
        return Claim(job_id=inserted)

    job = session.execute(select(JobRun).where(JobRun.task_token_hash == digest).with_for_update()).scalar_one()
    job.deliveries += 1
    if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
        return Claim(job_id=job.id, replay=job)
    lease_ends = job.started_at + timedelta(seconds=lease_seconds)
    if job.status == JobStatus.RUNNING and lease_ends > datetime.now(UTC):
        return Claim(job_id=job.id, in_flight=True)  # the delivery is still counted
    # The previous holder died (or released the lease after a crash): take the task over.
    job.status = JobStatus.RUNNING
    job.started_at = func.now()
    job.message_id = message_id
    return Claim(job_id=job.id)


def finish_job(
    session: Session,
    job_id: UUID,
    status: JobStatus,
    *,
    outcome: StepOutcome | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
) -> JobRun:
    job = session.get(JobRun, job_id)
    assert job is not None
    job.status = status
    job.finished_at = datetime.now(UTC)
    job.duration_ms = int((job.finished_at - job.started_at).total_seconds() * 1000)
    job.error_code = error_code
    job.error_message = error_message[:4000] if error_message else None
    if outcome is not None:
        job.output = outcome.output
        job.provider = outcome.provider
        job.prompt_tokens = outcome.prompt_tokens
        job.completion_tokens = outcome.completion_tokens
    return job


def release_job(session: Session, job_id: UUID, error_message: str) -> None:
    """A crash: keep the row RUNNING but end its lease so the redelivered message may take over at once."""
    job = session.get(JobRun, job_id)
    if job is not None and job.status == JobStatus.RUNNING:
        job.started_at = datetime(1970, 1, 1, tzinfo=UTC)
        job.error_code = "Worker.Crashed"
        job.error_message = error_message[:4000]
