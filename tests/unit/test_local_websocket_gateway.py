"""The local WebSocket gateway picks routes as API Gateway does: by the route selection field, then
$default for anything no route takes, then (with no $default) API Gateway's Forbidden answer."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from storywink.local.websocket_gateway import LocalWebSocketGateway


class Recorder:
    """A handler that remembers the route key of every event it is given."""

    def __init__(self) -> None:
        self.routes: list[str] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.routes.append(event["requestContext"]["routeKey"])
        return {"statusCode": 200}


def gateway(*route_keys: str) -> tuple[LocalWebSocketGateway, Recorder]:
    handler = Recorder()
    routes = {key: ("SomeFunction", handler) for key in ("$connect", "$disconnect", *route_keys)}
    return LocalWebSocketGateway(routes, selection_field="action"), handler


def exchange(local: LocalWebSocketGateway, handler: Recorder, message: str, *, answered: bool) -> dict | None:
    """Send one message on a new connection: its answer, if it gets one, once a handler has taken it."""
    with TestClient(local.app()) as client, client.websocket_connect("/") as socket:
        socket.send_text(message)
        if answered:
            return json.loads(socket.receive_text())
        deadline = time.monotonic() + 5
        while len(handler.routes) < 2 and time.monotonic() < deadline:  # $connect, then the message's route
            time.sleep(0.01)
    return None


@pytest.mark.parametrize("message", [json.dumps({"action": "subscribe", "bookId": "b1"}), json.dumps({"action": "ping"})])
def test_a_message_goes_to_the_route_its_action_names(message):
    local, handler = gateway("subscribe", "ping", "$default")

    exchange(local, handler, message, answered=False)

    assert handler.routes[:2] == ["$connect", json.loads(message)["action"]]


@pytest.mark.parametrize("message", ["not json", "[1, 2]", '"subscribe"', json.dumps({"action": "watch"}), "{}"])
def test_a_message_no_route_takes_goes_to_default(message):
    local, handler = gateway("subscribe", "$default")

    exchange(local, handler, message, answered=False)

    assert handler.routes[:2] == ["$connect", "$default"]


@pytest.mark.parametrize("message", ["not json", json.dumps({"action": "watch"})])
def test_without_a_default_route_a_message_no_route_takes_is_forbidden(message):
    local, handler = gateway("subscribe")

    answer = exchange(local, handler, message, answered=True)

    assert answer is not None and answer["message"] == "Forbidden" and {"connectionId", "requestId"} <= set(answer)
    assert set(handler.routes) <= {"$connect", "$disconnect"}
