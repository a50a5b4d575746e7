"""What one user may hold open on the WebSocket API: connections (a $connect beyond the cap is refused
with 429 in the API's error shape, and API Gateway refuses the upgrade) and subscriptions over all of
them (a subscribe beyond gets a TOO_MANY_SUBSCRIPTIONS error frame); a closed one frees its place."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from storywink.local.lambda_runtime import LocalLambdaContext
from storywink.local.samples import load_sample
from storywink.realtime.frame_schema import SCHEMA_FILE
from storywink.wiring import container

pytestmark = pytest.mark.e2e

FRAMES_SCHEMA = json.loads((Path(__file__).resolve().parents[2] / SCHEMA_FILE).read_text())
ERROR_FRAME = Draft202012Validator({"$ref": "#/$defs/ErrorFrame", "$defs": FRAMES_SCHEMA["$defs"]})


def open_socket(stack, user: str):
    return connect(f"{stack.websocket_url}/?token={stack.mint_token(user)}", open_timeout=10)


def wait_for_connections(user: str, count: int) -> None:
    """$disconnect runs after a socket closes: wait until the user holds ``count`` connections."""
    store = container().require_live().store
    deadline = time.monotonic() + 10
    while store.held_by(user).connections != count:
        assert time.monotonic() < deadline, "the $disconnect handler never ran"
        time.sleep(0.05)


def test_a_connect_beyond_the_users_cap_is_refused_and_a_closed_one_frees_its_place(stack, settings):
    import ws_connect

    settings.set(WS_MAX_CONNECTIONS_PER_USER="2")
    first, second = open_socket(stack, "capped"), open_socket(stack, "capped")
    with pytest.raises(InvalidStatus):
        open_socket(stack, "capped")
    event = load_sample("ws_connect.json")
    event["queryStringParameters"]["token"] = stack.mint_token("capped")
    refused = ws_connect.handler(event, LocalLambdaContext("WsConnectFunction"))
    other = open_socket(stack, "another-parent")  # the cap is per user

    assert refused["statusCode"] == 429 and refused["headers"]["Retry-After"] == "30"
    error = json.loads(refused["body"])["error"]
    assert error["code"] == "TOO_MANY_CONNECTIONS" and "At most 2" in error["message"]
    assert error["requestId"] == event["requestContext"]["requestId"]
    assert container().require_live().store.connection_user(event["requestContext"]["connectionId"]) is None

    first.close()
    wait_for_connections("capped", 1)
    with open_socket(stack, "capped") as third:
        third.send(json.dumps({"action": "ping"}))
        assert json.loads(third.recv(timeout=5)) == {"type": "pong"}
    second.close()
    other.close()


def test_a_subscribe_beyond_the_users_cap_gets_an_error_frame_and_an_unsubscribe_frees_its_place(api, stack, settings):
    settings.set(WS_MAX_SUBSCRIPTIONS_PER_USER="2")
    parent = api("subscriber")
    books = [parent("POST", "/v1/books", 201, json={"title": f"Book {n}", "childName": "Ada"})["id"] for n in range(3)]

    def subscribe(socket, book_id: str) -> dict:
        socket.send(json.dumps({"action": "subscribe", "bookId": book_id}))
        return json.loads(socket.recv(timeout=10))

    with open_socket(stack, "subscriber") as one, open_socket(stack, "subscriber") as two:
        assert subscribe(one, books[0])["type"] == "snapshot"
        assert subscribe(two, books[1])["type"] == "snapshot"  # the cap counts over all the user's sockets
        refused = subscribe(two, books[2])
        again = subscribe(one, books[0])  # subscribing again to what it has takes no new place

        assert refused["type"] == "error" and refused["code"] == "TOO_MANY_SUBSCRIPTIONS"
        assert refused["bookId"] == books[2] and "At most 2" in refused["message"]
        ERROR_FRAME.validate(refused)
        assert again["type"] == "snapshot"

        one.send(json.dumps({"action": "unsubscribe", "bookId": books[0]}))
        deadline = time.monotonic() + 10
        while (frame := subscribe(two, books[2]))["type"] == "error":  # the unsubscribe may still be on its way
            assert time.monotonic() < deadline, frame
            time.sleep(0.1)
        assert frame["type"] == "snapshot" and frame["bookId"] == books[2]
