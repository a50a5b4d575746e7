"""Live progress over the WebSocket API: snapshot first, then every event once and in order, pushed by
the fan-out function off the workers' path; a stuck client holds nobody up; a dropped client resumes."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from storywink.local.live_follower import LiveFollower
from storywink.realtime.frame_schema import SCHEMA_FILE
from storywink.wiring import container

FINAL = {"COMPLETED", "PARTIAL", "FAILED"}
FRAMES_SCHEMA = json.loads((Path(__file__).resolve().parents[2] / SCHEMA_FILE).read_text())
KINDS = {"snapshot": "SnapshotFrame", "event": "EventFrame", "error": "ErrorFrame", "pong": "PongFrame"}


def frame_kind(name: str) -> Draft202012Validator:
    """A validator for one kind of frame of the committed protocol schema."""
    return Draft202012Validator({"$ref": f"#/$defs/{name}", "$defs": FRAMES_SCHEMA["$defs"]})


def open_socket(stack, user: str):
    return connect(f"{stack.websocket_url}/?token={stack.mint_token(user)}", open_timeout=10)


def subscribe(socket, book_id: str) -> dict:
    socket.send(json.dumps({"action": "subscribe", "bookId": book_id}))
    return json.loads(socket.recv(timeout=10))


def collect_until_final(socket, frames: list[dict]) -> None:
    while True:
        frame = json.loads(socket.recv(timeout=60))
        frames.append(frame)
        if frame.get("status") in FINAL and frame.get("event") == "book.finished" or frame.get("event") == "book.failed":
            return


def test_two_clients_on_one_book_each_get_every_event_in_order(api, stack, sample_photos):
    parent = api("parent")
    book = parent.make_book(sample_photos[:3])
    sockets = [open_socket(stack, "parent"), open_socket(stack, "parent")]
    snapshots = [subscribe(s, book["id"]) for s in sockets]
    assert all(s["type"] == "snapshot" and s["status"] == "DRAFT" for s in snapshots)
    received: list[list[dict]] = [[], []]
    readers = [threading.Thread(target=collect_until_final, args=(s, r)) for s, r in zip(sockets, received)]
    for reader in readers:
        reader.start()
    parent("POST", f"/v1/books/{book['id']}/generate", 202)
    for reader in readers:
        reader.join(timeout=90)
    for socket in sockets:
        socket.close()

    for snapshot, frames in zip(snapshots, received):
        seqs = [frame["seq"] for frame in frames]
        assert seqs == list(range(snapshot["seq"] + 1, snapshot["seq"] + 1 + len(frames))), seqs
        assert all(frame["type"] == "event" for frame in frames)
        assert frames[-1]["status"] == "COMPLETED" and frames[-1]["progress"]["illustrations"]["completed"] == 3
        assert [f.get("event") for f in frames].count("page.illustrated") == 3
    assert received[0] == received[1]


def test_another_users_client_is_refused_and_learns_nothing(api, stack, sample_photos):
    book = api("parent").make_book(sample_photos[:1])
    with open_socket(stack, "stranger") as socket:
        frame = subscribe(socket, book["id"])
        assert frame == {"type": "error", "code": "BOOK_NOT_FOUND", "message": "Book not found.", "bookId": book["id"]}
        api("parent")("PATCH", f"/v1/books/{book['id']}", json={"title": "A new title"})
        with pytest.raises(TimeoutError):
            socket.recv(timeout=1)


@pytest.mark.parametrize(
    "message",
    [
        {"action": "subscribe", "bookId": "42"},
        {"action": "subscribe", "bookId": "5b1d8f5e-7c2a-4e59-9a0e-2f8f3a1c9d01", "lastSeq": -1},
        {"action": "subscribe", "bookId": "5b1d8f5e-7c2a-4e59-9a0e-2f8f3a1c9d01", "lastSeq": "3"},
    ],
)
def test_a_subscribe_without_a_valid_book_id_or_last_seq_gets_an_error_frame(stack, message):
    with open_socket(stack, "parent") as socket:
        socket.send(json.dumps(message))
        assert json.loads(socket.recv(timeout=5))["code"] == "BAD_MESSAGE"


def test_a_ping_is_answered_with_a_pong(stack):
    with open_socket(stack, "parent") as socket:
        socket.send(json.dumps({"action": "ping"}))
        assert json.loads(socket.recv(timeout=5)) == {"type": "pong"}


def test_subscribing_with_last_seq_sends_exactly_the_events_after_it(api, stack, sample_photos):
    book = api("parent").make_finished_book(sample_photos[:1])
    with open_socket(stack, "parent") as socket:
        final_seq = subscribe(socket, book["id"])["seq"]
    with open_socket(stack, "parent") as socket:
        socket.send(json.dumps({"action": "subscribe", "bookId": book["id"], "lastSeq": 2}))
        frames = [json.loads(socket.recv(timeout=10)) for _ in range(final_seq - 2)]
        with pytest.raises(TimeoutError):
            socket.recv(timeout=1)  # nothing before lastSeq, no snapshot, nothing twice
    assert [(f["type"], f["seq"]) for f in frames] == [("event", seq) for seq in range(3, final_seq + 1)]
    assert frames[-1]["status"] == "COMPLETED"


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("not json", "BAD_MESSAGE"),
        ("[1, 2]", "BAD_MESSAGE"),
        (json.dumps({"action": "watch", "bookId": "5b1d8f5e-7c2a-4e59-9a0e-2f8f3a1c9d01"}), "UNKNOWN_ACTION"),
        (json.dumps({"bookId": "5b1d8f5e-7c2a-4e59-9a0e-2f8f3a1c9d01"}), "UNKNOWN_ACTION"),
    ],
)
def test_a_message_no_route_takes_gets_the_protocols_error_frame_and_the_connection_stays(stack, message, code):
    with open_socket(stack, "parent") as socket:
        socket.send(message)
        frame = json.loads(socket.recv(timeout=5))
        assert (frame["type"], frame["code"]) == ("error", code) and frame["message"]
        frame_kind("ErrorFrame").validate(frame)
        socket.send(json.dumps({"action": "ping"}))
        assert json.loads(socket.recv(timeout=5)) == {"type": "pong"}


def test_every_frame_of_a_whole_generation_fits_the_protocols_schema(api, stack, sample_photos):
    parent = api("parent")
    book = parent.make_book(sample_photos[:2])
    frames: list[dict] = []
    with open_socket(stack, "parent") as socket:
        for message in ({"action": "ping"}, {"action": "subscribe", "bookId": str(uuid.uuid4())}, {"action": "watch"}):
            socket.send(json.dumps(message))
            frames.append(json.loads(socket.recv(timeout=10)))
        frames.append(subscribe(socket, book["id"]))
        parent("POST", f"/v1/books/{book['id']}/generate", 202)
        collect_until_final(socket, frames)

    for frame in frames:
        frame_kind(KINDS[frame["type"]]).validate(frame)
        frame_kind("ServerFrame").validate(frame)
    assert {frame["type"] for frame in frames} == set(KINDS)
    events = {frame["event"]: frame for frame in frames if frame["type"] == "event"}
    assert {"generation.started", "story.completed", "page.illustrated", "book.finished"} <= set(events)
    # Each event's progress is the book's after the change it announces.
    assert events["story.completed"]["progress"]["storyGeneration"]["completed"] is True
    assert events["book.finished"]["progress"]["illustrations"]["completed"] == 2
    assert all(frame["progress"]["status"] == frame["status"] for frame in frames if "progress" in frame)


@pytest.mark.parametrize("query", ["", "?token=not-a-jwt"])
def test_connecting_without_a_valid_token_is_refused(stack, query):
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{stack.websocket_url}/{query}", open_timeout=5)
    assert refused.value.response.status_code == 403


def subscriber_without_a_socket(connection_id: str, book_id: str):
    """A subscription of the parent's from the start, with no client behind it; returns the store."""
    store = container().require_live().store
    store.add_connection(connection_id, "parent")
    store.subscribe(connection_id, "parent", book_id, 0)
    return store


def test_a_vanished_connection_is_removed_on_the_next_push(api, stack, sample_photos):
    parent = api("parent")
    book = parent.make_book(sample_photos[:1])
    store = subscriber_without_a_socket("vanished-client", book["id"])
    with open_socket(stack, "parent") as live:
        subscribe(live, book["id"])
        parent("POST", f"/v1/books/{book['id']}/generate", 202)
        assert json.loads(live.recv(timeout=30))["type"] == "event"  # a push happened
    parent.wait_for(book["id"], FINAL)
    assert [s.connection_id for s in store.subscribers(book["id"])] == []
    assert store.connection_user("vanished-client") is None


def test_a_subscriber_whose_posts_hang_delays_neither_the_book_nor_another_subscriber(api, stack, sample_photos):
    parent = api("parent")
    book = parent.make_book(sample_photos[:3])
    # A client whose post_to_connection never returns (until released).
    store = subscriber_without_a_socket("stuck-client", book["id"])
    stack.websocket_gateway.hold_posts("stuck-client")
    try:
        with open_socket(stack, "parent") as healthy:
            snapshot = subscribe(healthy, book["id"])
            started = time.monotonic()
            parent("POST", f"/v1/books/{book['id']}/generate", 202)
            frames: list[dict] = []
            collect_until_final(healthy, frames)
            took = time.monotonic() - started
        final = parent("GET", f"/v1/books/{book['id']}/status")
        stuck = store.subscription("stuck-client", book["id"])
    finally:
        stack.websocket_gateway.release_posts("stuck-client")

    assert final["status"] == "COMPLETED"
    seqs = [frame["seq"] for frame in frames]
    assert seqs == list(range(snapshot["seq"] + 1, snapshot["seq"] + 1 + len(frames)))
    assert frames[-1]["status"] == "COMPLETED"
    # A held post lasts up to a minute: had anyone waited on it, the book and its frames would have too.
    assert took < 45, f"generation and its frames took {took:.1f} s"
    # The stuck client's post timed out once; it is skipped for a while and keeps its place for later.
    assert stuck is not None and stuck.last_seq == 0 and stuck.stalled(time.time())


def test_a_dropped_connection_reconnects_and_resumes_missing_nothing_and_repeating_nothing(
    api, stack, sample_photos, paused
):
    parent = api("parent")
    book = parent.make_book(sample_photos[:3])
    live = container().require_live()
    follower = LiveFollower(
        stack.websocket_url, stack.mint_token("parent"), book["id"], ping_seconds=0.5, backoff=lambda attempt: 0.2
    )
    frames: list[dict] = []
    subscribed = threading.Event()

    def follow() -> None:
        for frame in follower.frames(timeout=90):
            frames.append(frame)
            subscribed.set()
            if frame.get("status") in FINAL and frame.get("event") in {"book.finished", "book.failed"}:
                return

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    assert subscribed.wait(timeout=10)
    with paused("IllustrationWorkerFunction"):
        parent("POST", f"/v1/books/{book['id']}/generate", 202)
        parent.wait_for(book["id"], {"ILLUSTRATING"})
        # What API Gateway's idle or two-hour limit does; and the client cannot get back in for a while.
        stack.websocket_gateway.hold_connects()
        (connection,) = live.store.subscribers(book["id"])
        live.gateway.client.delete_connection(ConnectionId=connection.connection_id)
    try:
        parent.wait_for(book["id"], FINAL)  # every illustration happened while the client was away
    finally:
        stack.websocket_gateway.release_connects()
    reader.join(timeout=60)

    assert not reader.is_alive(), f"the follower stopped at {follower.last_seq}"
    assert frames[0]["type"] == "snapshot" and follower.connections >= 2
    seqs = [frame["seq"] for frame in frames[1:]]
    assert seqs == list(range(frames[0]["seq"] + 1, frames[0]["seq"] + 1 + len(seqs))), seqs
    assert [f.get("event") for f in frames].count("page.illustrated") == 3
    assert frames[-1]["status"] == "COMPLETED"
