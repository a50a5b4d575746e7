"""The lease sweeper: finds tasks whose worker died without a word (a Lambda timeout, an out-of-memory
kill) and fails them with `Worker.Lost`, which the state machine retries with a fresh message.

A worker renews its task's lease while it works, so a lease that has run out means nobody is working on
it. A task the worker released after a crash it saw has no holder and is not swept: its message is on its
way back to the queue. Runs on a schedule (every minute in the cloud); each swept task is settled in its own short
transaction, skipping rows another sweeper or a late worker has locked.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from storywink.db.engine import Database
from storywink.db.tables import JobRun
from storywink.domain.enums import JobStatus
from storywink.observability import logger, metrics
from storywink.pipeline.callbacks import TaskCallbacks
from storywink.pipeline.jobs import finish_job

WORKER_LOST = "Worker.Lost"
BATCH = 100


def sweep_expired_leases(database: Database, callbacks: TaskCallbacks, *, now: datetime | None = None) -> int:
    """Fail every task whose lease ran out; returns how many were swept."""
    swept = 0
    while True:
        with database.unit_of_work() as session:
            jobs = list(
                session.execute(
                    select(JobRun)
                    .where(
                        JobRun.status == JobStatus.RUNNING,
                        JobRun.lease_owner.is_not(None),  # a released task's message is already coming back
                        JobRun.lease_expires_at < (now or datetime.now(UTC)),
                    )
                    .order_by(JobRun.lease_expires_at)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                ).scalars()
            )
            lost = [(job.task_token, job.step.value, str(job.book_id)) for job in jobs]
            for job in jobs:
                finish_job(job, JobStatus.FAILED, error_code=WORKER_LOST, error_message="The worker stopped renewing its lease.")
        # Told after the commit: a worker that comes back late finds the task settled and changes nothing.
        for token, step, book_id in lost:
            logger.warning("lost worker: failing its task for a retry", extra={"step": step, "bookId": book_id})
            if token:
                callbacks.failure(token, WORKER_LOST, f"The {step.lower()} worker stopped without reporting.")
        metrics.add_metric(name="LostWorkers", unit="Count", value=len(lost))
        swept += len(lost)
        if len(jobs) < BATCH:
            return swept
