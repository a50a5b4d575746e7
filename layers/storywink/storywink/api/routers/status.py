"""/v1/books/{id}/status: the seed's BookProgress, computed from the database."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from storywink.api.deps import ContainerDep, CurrentUser, SessionDep
from storywink.api.responses import OF_A_BOOK, OF_A_USER, errors
from storywink.domain.errors import ValidationFailed
from storywink.domain.progress import BookProgress
from storywink.realtime.sse import book_event_stream
from storywink.services import books, stream_leases
from storywink.services.progress import compute_progress
from storywink.services.stream_leases import StreamLeaseKeeper

router = APIRouter(prefix="/v1/books/{book_id}", tags=["status"], responses=OF_A_USER | OF_A_BOOK)


@router.get("/status", response_model=BookProgress, summary="Generation progress")
def get_book_status(book_id: UUID, user: CurrentUser, session: SessionDep):
    return compute_progress(session, books.get_owned_book(session, user.id, book_id))


@router.get(
    "/status/stream",
    summary="Live progress as Server-Sent Events (resumable with Last-Event-ID)",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {
                "text/event-stream": {
                    "schema": {
                        "type": "string",
                        "description": "Server-Sent Events: `id:` the sequence number, `event:` `snapshot` or the "
                        "event's type, `data:` one JSON frame (SnapshotFrame first, then an EventFrame per change); "
                        "`: heartbeat` comments every 15 s; `retry:` a reconnect hint",
                    },
                    # OpenAPI 3.1 has no schema for each event of a stream: the frame is named here.
                    "x-event-data": {
                        "oneOf": [
                            {"$ref": "#/components/schemas/SnapshotFrame"},
                            {"$ref": "#/components/schemas/EventFrame"},
                        ]
                    },
                }
            },
            "description": "A snapshot, then one event per status change, until the book is final",
        },
        **errors(
            422,
            429,
            s422="Not valid (`VALIDATION_FAILED`), or Last-Event-ID is not a sequence number (`INVALID_LAST_EVENT_ID`)",
            s429="The caller already holds `SSE_MAX_STREAMS_PER_USER` streams open: `TOO_MANY_STREAMS` "
            "(details: StreamLimitDetails)",
        ),
    },
)
def stream_book_status(
    book_id: UUID,
    user: CurrentUser,
    session: SessionDep,
    container: ContainerDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    resume_after: Annotated[int | None, Query(alias="lastEventId", ge=0)] = None,
) -> StreamingResponse:
    books.get_owned_book(session, user.id, book_id)
    after = resume_after
    if last_event_id is not None:
        if not last_event_id.isdigit():
            raise ValidationFailed("Last-Event-ID must be an event sequence number.", code="INVALID_LAST_EVENT_ID")
        after = int(last_event_id)
    settings = container.settings
    lease_id = stream_leases.acquire(
        session, user.id, book_id, limit=settings.sse_max_streams_per_user, lease_seconds=settings.sse_stream_lease_seconds
    )
    # A named step of this route: the stream may run long, so the request's transaction ends here and its
    # connection goes back before the first byte (the stream reads in short sessions of its own).
    session.commit()
    lease = StreamLeaseKeeper(container.database, lease_id, settings.sse_stream_lease_seconds)
    return StreamingResponse(
        book_event_stream(book_id, after, settings, container.database, container.book_event_waiter, lease),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
