"""A maintenance task's lease: a run that finds it held leaves the task to the holder, so two runs at once
(a schedule that fired twice, a run still going at the next one) never do the same listing twice. The
lease also keeps where the task got to; one whose holder died runs out with the Lambda timeout."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from storywink.db.tables import MaintenanceLease


@dataclass(frozen=True)
class Lease:
    task: str
    holder: UUID
    position: str


def claim(session: Session, task: str, seconds: float) -> Lease | None:
    """The task's lease for ``seconds``, or None while another run holds it."""
    session.execute(insert(MaintenanceLease).values(task=task).on_conflict_do_nothing(index_elements=[MaintenanceLease.task]))
    free = or_(MaintenanceLease.holder.is_(None), MaintenanceLease.expires_at <= func.now())
    row = session.execute(
        select(MaintenanceLease).where(MaintenanceLease.task == task, free).with_for_update(skip_locked=True)
    ).scalar_one_or_none()
    if row is None:
        return None
    row.holder = uuid.uuid4()
    row.expires_at = func.now() + timedelta(seconds=seconds)
    return Lease(task, row.holder, row.position or "")


def advance(session: Session, lease: Lease, position: str) -> bool:
    """Record where the task got to; False when the lease is no longer this run's."""
    moved = session.execute(
        update(MaintenanceLease)
        .where(MaintenanceLease.task == lease.task, MaintenanceLease.holder == lease.holder)
        .values(position=position)
    )
    return bool(moved.rowcount)


def release(session: Session, lease: Lease) -> None:
    session.execute(
        update(MaintenanceLease)
        .where(MaintenanceLease.task == lease.task, MaintenanceLease.holder == lease.holder)
        .values(holder=None, expires_at=None)
    )
