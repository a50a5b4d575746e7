"""clients/websocket-frames.schema.json is generated from the protocol's models (regenerate:
`storywink frames-schema --write`), and the frames the server builds, the messages the samples send and
the protocol's mistakes are told apart by it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from storywink.domain.enums import BookStatus
from storywink.domain.progress import BookProgress, IllustrationProgress, QueueProgress, StoryGenerationProgress
from storywink.realtime.frame_schema import SCHEMA_FILE, frames_schema_document
from storywink.realtime.frames import ErrorCode, error_frame, pong_frame, snapshot_frame
from storywink.realtime.websocket_routes import unroutable_frame

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / SCHEMA_FILE).read_text())
BOOK = "5b1d8f5e-7c2a-4e59-9a0e-2f8f3a1c9d01"


def kind(name: str) -> Draft202012Validator:
    """A validator for one frame kind (or union) of the committed document."""
    return Draft202012Validator({"$ref": f"#/$defs/{name}", "$defs": SCHEMA["$defs"]})


def progress(**fields) -> BookProgress:
    return BookProgress(
        status=BookStatus.GENERATING,
        story_generation=StoryGenerationProgress(started=True, completed=False),
        illustrations=IllustrationProgress(total=3, completed=0, failed=0, in_progress=0),
        **fields,
    )


def test_the_committed_schema_is_current():
    committed = (ROOT / SCHEMA_FILE).read_text()
    assert committed == frames_schema_document(), f"{SCHEMA_FILE} is stale: run `storywink frames-schema --write`"


def test_the_schema_is_a_valid_json_schema():
    Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize(
    ("frame", "name"),
    [
        (snapshot_frame(BOOK, 0, progress()), "SnapshotFrame"),
        (snapshot_frame(BOOK, 4, progress(queue=QueueProgress(position=2, estimated_start_seconds=30))), "SnapshotFrame"),
        (error_frame(ErrorCode.BOOK_NOT_FOUND, "Book not found.", book_id=BOOK), "ErrorFrame"),
        (error_frame(ErrorCode.BAD_MESSAGE, "Send a JSON object."), "ErrorFrame"),
        (pong_frame(), "PongFrame"),
    ],
)
def test_every_frame_the_server_builds_fits_its_kind_and_no_other(frame, name):
    kind(name).validate(frame)
    kind("ServerFrame").validate(frame)  # oneOf: exactly one kind
    assert not kind("ClientMessage").is_valid(frame)


@pytest.mark.parametrize("body", ["not json", "[1]", json.dumps({"action": "watch"}), "{}"])
def test_the_answer_to_a_message_no_route_takes_is_an_error_frame(body):
    frame = unroutable_frame({"requestContext": {"connectionId": "c1"}, "body": body})

    kind("ErrorFrame").validate(frame)
    assert frame["code"] == ("UNKNOWN_ACTION" if body.startswith("{") else "BAD_MESSAGE")


@pytest.mark.parametrize("sample", ["ws_subscribe.json", "ws_ping.json"])
def test_the_sample_messages_are_client_messages(sample):
    body = json.loads(json.loads((ROOT / "events" / sample).read_text())["body"])

    kind("ClientMessage").validate(body)


@pytest.mark.parametrize(
    "message",
    [
        {"action": "subscribe", "bookId": BOOK, "lastSeq": -1},
        {"action": "subscribe", "bookId": BOOK, "lastSeq": "3"},
        {"action": "subscribe"},
        {"action": "watch", "bookId": BOOK},
    ],
)
def test_a_message_the_server_refuses_is_no_client_message(message):
    assert not kind("ClientMessage").is_valid(message)


def test_an_event_frame_needs_its_sequence_number_and_progress():
    frame = {"type": "event", "event": "story.completed", "seq": 3, "bookId": BOOK, "status": "ILLUSTRATING"}

    assert not kind("EventFrame").is_valid(frame)
    assert kind("EventFrame").is_valid({**frame, "progress": progress().model_dump(by_alias=True, mode="json")})
