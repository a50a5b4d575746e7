"""A local stand-in for API Gateway's WebSocket API and its Management API.

Clients speak real WebSocket to it; it turns connect / messages / disconnect into API Gateway
WebSocket events for the same handler functions the template routes them to, and it serves the
`@connections` endpoint that `post_to_connection` calls (410 Gone for unknown or closed connections).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from storywink.local.lambda_runtime import Handler, LocalLambdaContext

STAGE = "local"


class LocalWebSocketGateway:
    def __init__(self, routes: dict[str, tuple[str, Handler]], selection_field: str = "action") -> None:
        self.routes = routes  # route key -> (function name, handler)
        self.selection_field = selection_field
        self.connections: dict[str, WebSocket] = {}
        self.domain = "127.0.0.1"

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                WebSocketRoute("/", self.websocket),
                Route("/@connections/{connection_id}", self.manage, methods=["POST", "GET", "DELETE"]),
            ]
        )

    # ------------------------------------------------------------ client side
    async def websocket(self, socket: WebSocket) -> None:
        connection_id = base64.urlsafe_b64encode(uuid.uuid4().bytes[:9]).decode()  # shaped like API Gateway ids
        connect = await self._invoke("$connect", socket, connection_id, "CONNECT")
        if (connect or {}).get("statusCode", 200) != 200:
            await socket.close(code=1008)  # before accept: the handshake is refused with 403
            return
        await socket.accept()
        self.connections[connection_id] = socket
        try:
            while True:
                body = await socket.receive_text()
                route_key = self._route_key(body)
                if route_key is None:
                    await socket.send_text(json.dumps({"message": "Forbidden", "connectionId": connection_id}))
                    continue
                await self._invoke(route_key, socket, connection_id, "MESSAGE", body)
        except WebSocketDisconnect:
            pass
        finally:
            self.connections.pop(connection_id, None)
            await self._invoke("$disconnect", socket, connection_id, "DISCONNECT")

    def _route_key(self, body: str) -> str | None:
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
            await socket.close()
            return Response(status_code=204)
        return JSONResponse({"connectedAt": None, "identity": {"sourceIp": "127.0.0.1"}})
