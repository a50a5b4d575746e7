"""Live progress over the WebSocket API: snapshot first, then every event once and in order."""

from __future__ import annotations

import json
import threading

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

FINAL = {"COMPLETED", "PARTIAL", "FAILED"}


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
        assert [f["event"] for f in frames].count("page.illustrated") == 3
    assert received[0] == received[1]


def test_another_users_client_is_refused_and_learns_nothing(api, stack, sample_photos):
    book = api("parent").make_book(sample_photos[:1])
    with open_socket(stack, "stranger") as socket:
        frame = subscribe(socket, book["id"])
        assert frame == {"type": "error", "code": "BOOK_NOT_FOUND", "message": "Book not found.", "bookId": book["id"]}
        api("parent")("PATCH", f"/v1/books/{book['id']}", json={"title": "A new title"})
        with pytest.raises(TimeoutError):
            socket.recv(timeout=1)


def test_a_subscribe_without_a_valid_book_id_gets_an_error_frame(stack):
    with open_socket(stack, "parent") as socket:
        socket.send(json.dumps({"action": "subscribe", "bookId": "42"}))
        assert json.loads(socket.recv(timeout=5))["code"] == "BAD_MESSAGE"


def test_a_message_matching_no_route_is_forbidden_as_on_api_gateway(stack):
    with open_socket(stack, "parent") as socket:
        socket.send("not json")
        assert json.loads(socket.recv(timeout=5))["message"] == "Forbidden"


@pytest.mark.parametrize("query", ["", "?token=not-a-jwt"])
def test_connecting_without_a_valid_token_is_refused(stack, query):
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{stack.websocket_url}/{query}", open_timeout=5)
    assert refused.value.response.status_code == 403


def test_a_vanished_connection_is_removed_on_the_next_push(api, stack, sample_photos):
    from storywink.wiring import container

    parent = api("parent")
    book = parent.make_book(sample_photos[:1])
    store = container().require_live().store
    store.add_connection("vanished-client", "parent")
    store.subscribe("vanished-client", "parent", book["id"], 0)
    with open_socket(stack, "parent") as live:
        subscribe(live, book["id"])
        parent("POST", f"/v1/books/{book['id']}/generate", 202)
        assert json.loads(live.recv(timeout=30))["type"] == "event"  # a push happened
    parent.wait_for(book["id"], FINAL)
    assert [s.connection_id for s in store.subscribers(book["id"])] == []
    assert store.connection_user("vanished-client") is None
