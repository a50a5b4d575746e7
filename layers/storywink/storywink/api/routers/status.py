"""/v1/books/{id}/status: the seed's BookProgress, computed from the database."""

from __future__ import annotations

import re
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from storywink.api.conditional import CONDITIONAL, IfNoneMatch, conditional_json
from storywink.api.consistency import ReadSessionDep
from storywink.api.deps import ContainerDep, CurrentUser, SessionDep
from storywink.api.responses import OF_A_BOOK, OF_A_USER, errors
from storywink.domain.errors import ValidationFailed
from storywink.domain.progress import BookProgress
from storywink.realtime.sse import book_event_stream
from storywink.services import books, stream_leases
from storywink.services.progress import compute_progress
from storywink.services.stream_leases import StreamLeaseKeeper

router = APIRouter(prefix="/v1/books/{book_id}", tags=["status"], responses=OF_A_USER | OF_A_BOOK)
# A sequence number fits the events' BIGINT: at most 2**63 - 1, so any 18 digits in a header.
MAX_SEQ = 2**63 - 1
SEQ_HEADER = r"^[0-9]{1,18}$"


@router.get("/status", response_model=BookProgress, summary="Generation progress", responses=CONDITIONAL)
def get_book_status(book_id: UUID, user: CurrentUser, session: ReadSessionDep, if_none_match: IfNoneMatch = None):
    return conditional_json(compute_progress(session, books.get_owned_book(session, user.id, book_id, with_pages=False)), if_none_match)


@router.get(
    "/status/stream",
    summary="Live progress as Server-Sent Events (resumable with Last-Event-ID)",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {
                "text/event-stream": {
                    # OpenAPI 3.1 has no keyword for the items of a stream (3.2's itemSchema): the schema of an
                    # event stream describes each event, as tools read it, its `data:` a JSON frame.
                    "schema": {
                        "type": "object",
                        "title": "ServerSentEvent",
                        "description": "One Server-Sent Event. Between events come `: heartbeat` comments every "
                        "15 s and a `retry:` reconnect hint",
                        "required": ["event", "data"],
                        "properties": {
                            "id": {
                                "type": "string",
                                "pattern": "^[0-9]+$",
                                "description": "The event's sequence number: resume with Last-Event-ID",
                            },
                            "event": {
                                "type": "string",
                                "description": "`snapshot`, then the event's type (`generation.started`, ...)",
                            },
                            "data": {
                                "type": "string",
                                "description": "One JSON frame: the SnapshotFrame first, then an EventFrame per change",
                                "contentMediaType": "application/json",
                                "contentSchema": {
                                    "oneOf": [
                                        {"$ref": "#/components/schemas/SnapshotFrame"},
                                        {"$ref": "#/components/schemas/EventFrame"},
                                    ]
                                },
                            },
                            "retry": {"type": "integer", "minimum": 0},
                        },
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
    # The header's pattern is the schema's word only: the route answers INVALID_LAST_EVENT_ID itself.
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", json_schema_extra={"pattern": SEQ_HEADER})] = None,
    resume_after: Annotated[int | None, Query(alias="lastEventId", ge=0, le=MAX_SEQ)] = None,
) -> StreamingResponse:
    books.get_owned_book(session, user.id, book_id, with_pages=False)
    after = resume_after
    if last_event_id is not None:
        if not re.fullmatch(SEQ_HEADER, last_event_id):
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
