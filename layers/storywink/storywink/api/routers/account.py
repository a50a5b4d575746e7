"""/v1/me and /v1/me/exports: delete my account and everything of it; have a copy of everything.

Deleting is a job (storywink.privacy.deletion): the route records it and sends its first message. The
route is not rate-limited (a deleted account has no counters left to charge, and a repeat answers 202 or
204 without asking more of anyone: a message is sent again only for a deletion long overdue).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Response, status
from pydantic import Field

from storywink.api.deps import CallerDep, ContainerDep, CurrentUser, MediaDep, SessionDep, SettingsDep
from storywink.api.responses import AUTHENTICATED, OF_A_USER, errors
from storywink.config import Settings
from storywink.db.tables import Export
from storywink.domain.enums import DeletionReason, ExportStatus
from storywink.domain.errors import ServiceUnavailable
from storywink.domain.progress import CamelModel
from storywink.observability import logger
from storywink.privacy.jobs import DeletionMessage, ExportMessage
from storywink.services import accounts, exports
from storywink.storage.media import MediaStore

router = APIRouter(prefix="/v1/me", tags=["me"], responses=OF_A_USER)
deletion_router = APIRouter(prefix="/v1/me", tags=["me"], responses=AUTHENTICATED)


class AccountDeletionOut(CamelModel):
    status: Literal["DELETING"] = Field(
        description="Under way: the account answers 410 `ACCOUNT_DELETED` from now on; a repeat answers 204 once it is done"
    )
    requested_at: datetime


class ExportOut(CamelModel):
    id: UUID
    status: ExportStatus = Field(
        description="PENDING, then BUILDING, then READY (downloadable until expiresAt, then EXPIRED); FAILED if it "
        "could not be built (ask for a new one)"
    )
    requested_at: datetime
    ready_at: datetime | None = None
    expires_at: datetime | None = Field(None, description="When the zip is deleted (READY and EXPIRED only)")
    size_bytes: int | None = None
    download_url: str | None = Field(None, description="READY only: a presigned GET of the zip, valid a few minutes")
    download_url_expires_at: datetime | None = None


def _not_configured(variable: str) -> ServiceUnavailable:
    return ServiceUnavailable(f"This service is not configured for it ({variable}).", code="PRIVACY_NOT_CONFIGURED")


@deletion_router.delete(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AccountDeletionOut,
    summary="Delete my account and everything of it",
    responses={status.HTTP_204_NO_CONTENT: {"description": "Already deleted: nothing of the account is left"}},
)
def delete_me(caller: CallerDep, session: SessionDep, settings: SettingsDep, container: ContainerDep):
    queue = container.deletion_queue
    if queue is None:
        raise _not_configured("ACCOUNT_DELETION_QUEUE_URL")
    deletion = accounts.request_deletion(session, caller.user_id, DeletionReason.REQUESTED)
    if deletion.finished_at is not None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    due = accounts.message_due(deletion, settings.account_deletion_resend_seconds)
    answer = AccountDeletionOut(status="DELETING", requested_at=deletion.requested_at)
    session.commit()  # the deletion stands (and the account answers 410) before its message goes
    if due:
        try:
            queue.send(DeletionMessage(user_id=caller.user_id))
        except Exception:  # noqa: BLE001 - recorded: the account sweep sends an overdue deletion's message
            logger.exception("could not send the account deletion's message; the sweep will")
        else:
            accounts.mark_enqueued(session, caller.user_id)
    return answer


def _export_out(view: exports.ExportView, media: MediaStore, settings: Settings) -> ExportOut:
    export = view.export
    out = ExportOut(
        id=export.id,
        status=view.status,
        requested_at=export.requested_at,
        ready_at=export.ready_at,
        expires_at=view.expires_at,
        size_bytes=export.size_bytes,
    )
    if view.status == ExportStatus.READY:
        ttl = settings.download_url_ttl_seconds
        day = (export.ready_at or export.requested_at).date().isoformat()
        out.download_url = media.presign_download(export.s3_key, ttl, filename=f"storywink-export-{day}.zip")
        out.download_url_expires_at = datetime.now(UTC) + timedelta(seconds=ttl)
    return out


def _view(export: Export, settings: Settings) -> exports.ExportView:
    return exports.view(export, ttl_days=settings.export_ttl_days, deadline_seconds=settings.export_build_deadline_seconds)


@router.post(
    "/exports",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ExportOut,
    summary="Ask for a zip of everything held about me",
    description="Built in the background: read its status at the Location given. While one is being made, asking "
    "again answers that one.",
    responses={
        status.HTTP_202_ACCEPTED: {
            "headers": {"Location": {"description": "The export's own URL", "schema": {"type": "string"}}},
            "links": {"getExport": {"operationId": "getExport", "parameters": {"export_id": "$response.body#/id"}}},
        },
        **errors(429),
    },
)
def start_export(
    user: CurrentUser, session: SessionDep, settings: SettingsDep, media: MediaDep, container: ContainerDep, response: Response
):
    queue = container.export_queue
    if queue is None:
        raise _not_configured("EXPORT_QUEUE_URL")
    export, created = exports.start_export(session, user.id, deadline_seconds=settings.export_build_deadline_seconds)
    if created:
        session.commit()  # the row exists before the worker can look for it
        try:
            queue.send(ExportMessage(export_id=export.id))
        except Exception as error:
            logger.exception("could not send the export's message")
            export.status, export.error_code = ExportStatus.FAILED, "NOT_STARTED"
            session.commit()
            raise ServiceUnavailable("The export could not be started; try again.", code="EXPORT_NOT_STARTED") from error
    response.headers["Location"] = f"/v1/me/exports/{export.id}"
    return _export_out(_view(export, settings), media, settings)


@router.get(
    "/exports/{export_id}",
    response_model=ExportOut,
    summary="An export's status, and its download link once it is ready",
    responses=errors(
        404, 422, s404="No such export of the caller's (`EXPORT_NOT_FOUND`; another user's export answers the same)"
    ),
)
def get_export(export_id: UUID, user: CurrentUser, session: SessionDep, settings: SettingsDep, media: MediaDep):
    export = exports.get_owned_export(session, user.id, export_id)
    return _export_out(_view(export, settings), media, settings)
