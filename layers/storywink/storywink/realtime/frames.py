"""What a live subscriber receives: a snapshot first (or, resuming, nothing before the events), then each
event with its sequence number; errors; and a pong for each ping."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storywink.db.tables import BookEvent
    from storywink.domain.progress import BookProgress


def snapshot_frame(book_id: str, seq: int, progress: BookProgress) -> dict[str, Any]:
    return {
        "type": "snapshot",
        "bookId": book_id,
        "seq": seq,
        "status": progress.status.value,
        "progress": progress.model_dump(by_alias=True, mode="json"),
    }


def event_frame(event: BookEvent) -> dict[str, Any]:
    return {**event.payload, "type": "event", "event": event.type, "seq": event.seq}


def error_frame(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message, **extra}


def pong_frame() -> dict[str, Any]:
    return {"type": "pong"}
