"""Exports as the API sees them: ask for one, read its status. The zip is built by storywink.privacy.export.

A user has at most one export in the making: asking again while one is PENDING or BUILDING returns that one.
EXPIRED is never stored: a READY export reads so once its life (EXPORT_TTL_DAYS, the bucket's lifecycle rule
for exports/) is over, and one not built within the deadline reads FAILED (its messages ran out of tries).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from storywink.db.tables import Export, new_id
from storywink.domain.enums import ExportStatus
from storywink.domain.errors import NotFound
from storywink.storage import keys

IN_THE_MAKING = (ExportStatus.PENDING, ExportStatus.BUILDING)


@dataclass(frozen=True)
class ExportView:
    export: Export
    status: ExportStatus
    expires_at: datetime | None


def view(export: Export, *, ttl_days: int, deadline_seconds: int, now: datetime | None = None) -> ExportView:
    now = now or datetime.now(UTC)
    if export.status == ExportStatus.READY and export.ready_at is not None:
        expires_at = export.ready_at + timedelta(days=ttl_days)
        return ExportView(export, ExportStatus.EXPIRED if expires_at <= now else ExportStatus.READY, expires_at)
    if export.status in IN_THE_MAKING and export.requested_at + timedelta(seconds=deadline_seconds) <= now:
        return ExportView(export, ExportStatus.FAILED, None)
    return ExportView(export, export.status, None)


def start_export(session: Session, user_id: str, *, deadline_seconds: int) -> tuple[Export, bool]:
    """The user's export in the making, or a new one; True when it is new (its message is to be sent)."""
    cutoff = datetime.now(UTC) - timedelta(seconds=deadline_seconds)
    current = session.execute(
        select(Export)
        .where(Export.user_id == user_id, Export.status.in_(IN_THE_MAKING), Export.requested_at > cutoff)
        .order_by(Export.requested_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    if current is not None:
        return current, False
    export_id = new_id()
    export = Export(id=export_id, user_id=user_id, status=ExportStatus.PENDING, s3_key=keys.export_key(user_id, export_id))
    session.add(export)
    session.flush()
    session.refresh(export)
    return export, True


def get_owned_export(session: Session, user_id: str, export_id: UUID) -> Export:
    """The caller's export; someone else's is indistinguishable from a missing one."""
    export = session.execute(select(Export).where(Export.id == export_id, Export.user_id == user_id)).scalar_one_or_none()
    if export is None:
        raise NotFound("Export not found.", code="EXPORT_NOT_FOUND")
    return export
