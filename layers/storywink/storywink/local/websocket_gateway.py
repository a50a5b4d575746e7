"""A local stand-in for API Gateway's WebSocket API and its Management API.

Clients speak real WebSocket to it; it turns connect / messages / disconnect into API Gateway
WebSocket events for the same handler functions the template routes them to, and it serves the
`@connections` endpoint that `post_to_connection` calls (410 Gone for unknown or closed connections;
DELETE closes the connection, as API Gateway's DeleteConnection does and as its 10-minute idle and
2-hour limits do by themselves).

Two faults API Gateway can show are available to tests: posts to a connection that hang
(`hold_posts`), and new connections that wait before they are accepted (`hold_connects`).
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from storywink.local.lambda_runtime import Handler, LocalLambdaContext

STAGE = "local"
# A held post or connect waits at most this long (a forgotten release never keeps the server from stopping).
MAX_HOLD_SECONDS = 60.0


class LocalWebSocketGateway:
    def __init__(self, routes: dict[str, tuple[str, Handler]], selection_field: str = "action") -> None:
        self.routes = routes  # route key -> (function name, handler)
        self.selection_field = selection_field
        self.connections: dict[str, WebSocket] = {}
        self.domain = "127.0.0.1"
        self._held_posts: set[str] = set()
        self._connects_open = threading.Event()
        self._connects_open.set()

    # ------------------------------------------------------------ faults, for tests
    def hold_posts(self, connection_id: str) -> None:
        """Posts to this connection hang (until released, or MAX_HOLD_SECONDS) like a stuck client's."""
        self._held_posts.add(connection_id)

    def release_posts(self, connection_id: str) -> None:
        self._held_posts.discard(connection_id)

    def hold_connects(self) -> None:
        """New connections wait before they are accepted (until released, or MAX_HOLD_SECONDS)."""
        self._connects_open.clear()

    def release_connects(self) -> None:
        self._connects_open.set()

    @staticmethod
    async def _wait_until(released: Callable[[], bool]) -> None:
        deadline = time.monotonic() + MAX_HOLD_SECONDS
        while not released() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                WebSocketRoute("/", self.websocket),
                Route("/@connections/{connection_id}", self.manage, methods=["POST", "GET", "DELETE"]),
            ]
        )

    # ------------------------------------------------------------ client side
    async def websocket(self, socket: WebSocket) -> None:
        await self._wait_until(self._connects_open.is_set)
        connection_id = base64.urlsafe_b64encode(uuid.uuid4().bytes[:9]).decode()  # shaped like API Gateway ids
        connect = await self._invoke("$connect", socket, connection_id, "CONNECT")
        if (connect or {}).get("statusCode", 200) != 200:
            await socket.close(code=1008)  # before accept: the handshake is refused with 403
            return
        await socket.accept()
        self.connections[connection_id] = socket
        try:
            while (body := await self._receive(socket)) is not None:
                route_key = self._route_key(body)
                if route_key is None:  # no route takes it and there is no $default: API Gateway's answer
                    forbidden = {"message": "Forbidden", "connectionId": connection_id, "requestId": uuid.uuid4().hex}
                    await socket.send_text(json.dumps(forbidden))
                    continue
                await self._invoke(route_key, socket, connection_id, "MESSAGE", body)
        except WebSocketDisconnect:
            pass
        finally:
            self.connections.pop(connection_id, None)
            await self._invoke("$disconnect", socket, connection_id, "DISCONNECT")

    @staticmethod
    async def _receive(socket: WebSocket) -> str | None:
        """The client's next message; None once the server side closed the connection (DELETE)."""
        try:
            return await socket.receive_text()
        except RuntimeError:
            return None

    def _route_key(self, body: str) -> str | None:
        """The route the selection field names, else $default (not JSON, not an object, no such route), else None."""
        try:
            key = json.loads(body).get(self.selection_field)
        except (ValueError, AttributeError):
            key = None
        if isinstance(key, str) and key in self.routes:
            return key
        return "$default" if "$default" in self.routes else None

    async def _invoke(
        self, route_key: str, socket: WebSocket, connection_id: str, event_type: str, body: str | None = None
    ) -> Any:
        if route_key not in self.routes:
            return None
        function_name, handler = self.routes[route_key]
        event: dict[str, Any] = {
            "requestContext": {
                "routeKey": route_key,
                "eventType": event_type,
                "extendedRequestId": uuid.uuid4().hex,
                "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
                "messageDirection": "IN",
                "stage": STAGE,
                "connectedAt": int(time.time() * 1000),
                "requestTimeEpoch": int(time.time() * 1000),
                "requestId": uuid.uuid4().hex,
                "domainName": self.domain,
                "connectionId": connection_id,
                "apiId": "local",
            },
            "isBase64Encoded": False,
        }
        if event_type == "CONNECT":
            event["headers"] = dict(socket.headers)
            event["queryStringParameters"] = dict(socket.query_params) or None
        if body is not None:
            event["body"] = body
        return await run_in_threadpool(handler, event, LocalLambdaContext(function_name, timeout_seconds=10))

    # ------------------------------------------------------------ management API
    async def manage(self, request: Request) -> Response:
        connection_id = request.path_params["connection_id"]
        if request.method == "POST" and connection_id in self._held_posts:
            await self._wait_until(lambda: connection_id not in self._held_posts)
        socket = self.connections.get(connection_id)
        if socket is None:
            return JSONResponse(
                {"__type": "GoneException", "message": f"connection {connection_id} is gone"},
                status_code=410,
                headers={"x-amzn-ErrorType": "GoneException"},
            )
        if request.method == "POST":
            try:
                await socket.send_text((await request.body()).decode())
            except (RuntimeError, WebSocketDisconnect):
                self.connections.pop(connection_id, None)
                return JSONResponse({"__type": "GoneException"}, status_code=410, headers={"x-amzn-ErrorType": "GoneException"})
            return Response(status_code=200)
        if request.method == "DELETE":
            self.connections.pop(connection_id, None)
            await socket.close()
            return Response(status_code=204)
        return JSONResponse({"connectedAt": None, "identity": {"sourceIp": "127.0.0.1"}})
