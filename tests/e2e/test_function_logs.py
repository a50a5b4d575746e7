"""The local stack runs every function in one process, yet each invocation's log lines carry its own
function's Lambda context: an API request after WebSocket activity logs as the API function."""

from __future__ import annotations

import json
import time

from websockets.sync.client import connect

from storywink.wiring import container


def test_an_api_request_after_a_websocket_disconnect_logs_as_the_api_function(api, stack, log_lines):
    with connect(f"{stack.websocket_url}/?token={stack.mint_token('parent')}", open_timeout=10) as socket:
        socket.send(json.dumps({"action": "ping"}))
        socket.recv(timeout=5)
    (connected,) = [line for line in log_lines if line["message"] == "websocket connected"]
    store = container().require_live().store
    deadline = time.monotonic() + 10
    while store.connection_user(connected["connectionId"]) is not None:  # $disconnect has not run yet
        assert time.monotonic() < deadline, "the $disconnect handler never ran"
        time.sleep(0.05)

    api("parent")("GET", "/v1/books")

    assert connected["function_name"] == "WsConnectFunction"
    (request,) = [line for line in log_lines if line["message"] == "request" and line.get("action") == "GET /v1/books"]
    assert request["function_name"] == stack.resources.http_api_function == "ApiFunction"
    assert request["function_request_id"] != connected["function_request_id"]
