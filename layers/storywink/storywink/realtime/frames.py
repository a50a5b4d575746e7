"""The live progress protocol: what a WebSocket client sends (subscribe, unsubscribe, ping) and what it
receives (a snapshot first, or resuming nothing before the events; each event with its sequence number;
errors; a pong for each ping). SSE streams send the same snapshot and event frames.

The models are the protocol's definition: the frames are built through them, and the JSON Schema a client
can check frames against (`clients/websocket-frames.schema.json`) is generated from them
(storywink.realtime.frame_schema). The stored events become frames as they are (their payload is the
event frame, written once by storywink.services.events), so sending one validates nothing again.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args
from uuid import UUID

from pydantic import ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from storywink.domain.enums import BookStatus, ModerationStatus
from storywink.domain.progress import BookProgress, CamelModel

if TYPE_CHECKING:
    from storywink.db.tables import BookEvent


class ErrorCode(StrEnum):
    BAD_MESSAGE = "BAD_MESSAGE"  # not a JSON object, or a subscribe with no valid bookId or lastSeq
    UNKNOWN_ACTION = "UNKNOWN_ACTION"  # a JSON object whose action no route takes
    BOOK_NOT_FOUND = "BOOK_NOT_FOUND"  # someone else's book, or none
    TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"  # the user holds WS_MAX_SUBSCRIPTIONS_PER_USER already


# ---------------------------------------------------------------- server -> client
class SnapshotFrame(CamelModel):
    """The first `data:` of a stream (`event: snapshot`): where the book stands now."""

    type: Literal["snapshot"]
    book_id: UUID
    seq: int = Field(ge=0, description="The book's latest event sequence number (also the SSE `id:`)")
    status: BookStatus
    progress: BookProgress


class EventFrame(CamelModel):
    """Each later `data:` (`event:` = its `event`): one status change, with the progress after it."""

    model_config = ConfigDict(extra="allow")  # an event may carry more: `pdfReady`, ...

    type: Literal["event"]
    event: str = Field(description="What happened: `generation.started`, `story.completed`, `page.failed`, `book.finished`, ...")
    seq: int = Field(ge=1, description="The per-book sequence number (also the SSE `id:`; resume with Last-Event-ID)")
    book_id: UUID
    status: BookStatus
    progress: BookProgress
    reason: str | SkipJsonSchema[None] = None
    page_id: UUID | SkipJsonSchema[None] = None
    page_status: ModerationStatus | SkipJsonSchema[None] = None


class ErrorFrame(CamelModel):
    """The answer to a message the server cannot act on; nothing else is sent for that message."""

    type: Literal["error"]
    code: ErrorCode = Field(
        description="BAD_MESSAGE: not a JSON object, or no valid `bookId` / `lastSeq`; UNKNOWN_ACTION: an "
        "`action` no route takes; BOOK_NOT_FOUND: someone else's book, or none"
    )
    message: str = Field(description="For people: what was wrong, or what to send instead")
    book_id: UUID | SkipJsonSchema[None] = Field(None, description="The book a BOOK_NOT_FOUND subscribe named")


class PongFrame(CamelModel):
    """The answer to a ping: the connection is alive (API Gateway closes one idle for 10 minutes)."""

    type: Literal["pong"]


SERVER_FRAMES: tuple[type[CamelModel], ...] = (SnapshotFrame, EventFrame, ErrorFrame, PongFrame)


# ---------------------------------------------------------------- client -> server
class SubscribeMessage(CamelModel):
    """Follow a book: a snapshot, then every later event; with `lastSeq`, every event after it instead."""

    action: Literal["subscribe"]
    book_id: UUID
    last_seq: Annotated[int, Field(ge=0, strict=True)] | SkipJsonSchema[None] = Field(
        None, description="The highest `seq` the client has: resume after it, with no snapshot"
    )


class UnsubscribeMessage(CamelModel):
    """Stop following a book; nothing is sent back."""

    action: Literal["unsubscribe"]
    book_id: UUID


class PingMessage(CamelModel):
    """Keepalive, every 5 minutes; answered with a pong."""

    action: Literal["ping"]


CLIENT_MESSAGES: tuple[type[CamelModel], ...] = (SubscribeMessage, UnsubscribeMessage, PingMessage)
# The routes the subscribe function serves, by the message's action (the template's route keys).
ACTIONS: tuple[str, ...] = tuple(get_args(message.model_fields["action"].annotation)[0] for message in CLIENT_MESSAGES)


# ---------------------------------------------------------------- building frames
def snapshot_frame(book_id: str, seq: int, progress: BookProgress) -> dict[str, Any]:
    frame = SnapshotFrame(type="snapshot", book_id=UUID(book_id), seq=seq, status=progress.status, progress=progress)
    return frame.model_dump(by_alias=True, mode="json")


def event_frame(event: BookEvent) -> dict[str, Any]:
    return {**event.payload, "type": "event", "event": event.type, "seq": event.seq}


def error_frame(code: ErrorCode, message: str, book_id: str | None = None) -> dict[str, Any]:
    frame = ErrorFrame(type="error", code=code, message=message, book_id=UUID(book_id) if book_id else None)
    return frame.model_dump(by_alias=True, mode="json", exclude_none=True)


def pong_frame() -> dict[str, Any]:
    return PongFrame(type="pong").model_dump(mode="json")
