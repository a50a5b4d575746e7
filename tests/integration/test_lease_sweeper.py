"""The lease sweeper fails the tasks of workers that stopped renewing their lease, and only those."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from storywink.db.tables import JobRun
from storywink.domain.enums import JobStatus, JobStep
from storywink.pipeline.sweeper import WORKER_LOST, sweep_expired_leases
from storywink.wiring import container


class RecordingCallbacks:
    def __init__(self) -> None:
        self.failures: list[tuple[str, str]] = []

    def failure(self, token: str, error: str, cause: str) -> bool:
        self.failures.append((token, error))
        return True


def running_job(session, book_id: str, token: str, *, owner: uuid.UUID | None, lease_ends: datetime | None) -> JobRun:
    job = JobRun(
        book_id=uuid.UUID(book_id),
        step=JobStep.ILLUSTRATION,
        status=JobStatus.RUNNING,
        task_token_hash=uuid.uuid4().hex,
        task_token=token,
        lease_owner=owner,
        lease_expires_at=lease_ends,
    )
    session.add(job)
    session.commit()
    return job


def status_of(session, job: JobRun) -> tuple[JobStatus, str | None]:
    session.expire_all()
    found = session.execute(select(JobRun).where(JobRun.id == job.id)).scalar_one()
    return found.status, found.error_code


def test_a_task_whose_lease_ran_out_is_failed_as_lost_for_a_retry(session, book_with_photos):
    book = book_with_photos(1)
    lost = running_job(session, book["id"], "token-lost", owner=uuid.uuid4(), lease_ends=datetime.now(UTC) - timedelta(seconds=5))
    callbacks = RecordingCallbacks()

    assert sweep_expired_leases(container().database, callbacks) == 1  # type: ignore[arg-type]

    assert status_of(session, lost) == (JobStatus.FAILED, WORKER_LOST)
    assert callbacks.failures == [("token-lost", WORKER_LOST)]


def test_a_live_lease_and_a_released_task_are_left_alone(session, book_with_photos):
    book = book_with_photos(1)
    live = running_job(session, book["id"], "token-live", owner=uuid.uuid4(), lease_ends=datetime.now(UTC) + timedelta(minutes=1))
    released = running_job(session, book["id"], "token-released", owner=None, lease_ends=None)
    callbacks = RecordingCallbacks()

    assert sweep_expired_leases(container().database, callbacks) == 0  # type: ignore[arg-type]

    assert status_of(session, live) == (JobStatus.RUNNING, None)
    assert status_of(session, released) == (JobStatus.RUNNING, None)
    assert callbacks.failures == []


def test_a_second_sweep_finds_nothing_more(session, book_with_photos):
    book = book_with_photos(1)
    running_job(session, book["id"], "token-lost", owner=uuid.uuid4(), lease_ends=datetime.now(UTC) - timedelta(seconds=5))
    callbacks = RecordingCallbacks()
    sweep_expired_leases(container().database, callbacks)  # type: ignore[arg-type]
    assert sweep_expired_leases(container().database, callbacks) == 0  # type: ignore[arg-type]
    assert len(callbacks.failures) == 1
