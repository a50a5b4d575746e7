"""The WebSocket API's routes: $connect (token check), $disconnect, subscribe, unsubscribe, ping, and
$default (what no other route takes) answered with an error frame."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from storywink.domain.errors import AppError
from storywink.observability import logger
from storywink.realtime.frames import (
    ACTIONS,
    ErrorCode,
    SubscribeMessage,
    UnsubscribeMessage,
    error_frame,
    pong_frame,
)
from storywink.realtime.gateway import ConnectionGone

# $connect and $disconnect touch the connections table alone: they load no database and no pushes.
if TYPE_CHECKING:
    from storywink.auth.verifier import TokenVerifier
    from storywink.realtime.connections import ConnectionStore
    from storywink.realtime.live import LiveProgress

OK = {"statusCode": 200}
# A refused connect's Retry-After: by then a page the parent closed has usually let its socket go.
CONNECTION_RETRY_AFTER_SECONDS = 30
DEFAULT_ROUTE = "$default"
MessageT = TypeVar("MessageT", SubscribeMessage, UnsubscribeMessage)
USAGE = 'Send {"action": "subscribe", "bookId": "<uuid>", "lastSeq": <the last seq you have, optional>}.'
NOT_AN_OBJECT = 'A message is a JSON object with an "action": ' + ", ".join(ACTIONS) + "."
UNKNOWN_ACTION = "No such action: send one of " + ", ".join(ACTIONS) + "."


def _token(event: dict[str, Any]) -> str | None:
    query = event.get("queryStringParameters") or {}
    if query.get("token"):
        return query["token"]
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    scheme, _, value = headers.get("authorization", "").partition(" ")
    return value if scheme.lower() == "bearer" and value else None


def handle_connect(
    event: dict[str, Any], verifier: TokenVerifier, connections: ConnectionStore, max_connections: int
) -> dict[str, Any]:
    """A valid token, and fewer than ``max_connections`` open for its user; refusals in the API's error shape."""
    connection_id = event["requestContext"]["connectionId"]
    token = _token(event)
    if not token:
        return _refused(event, 401, "TOKEN_MISSING", "A token is required (?token=...).")
    try:
        caller = verifier.verify(token)
    except AppError as error:
        logger.info("websocket connect refused", extra={"code": error.code})
        return _refused(event, error.status_code, error.code, error.message)
    if connections.held_by(caller.user_id).connections >= max_connections:
        logger.info("websocket connect refused", extra={"code": "TOO_MANY_CONNECTIONS", "userId": caller.user_id})
        return _refused(
            event, 429, "TOO_MANY_CONNECTIONS",
            f"At most {max_connections} live connections at once: close one and connect again.",
            retry_after_seconds=CONNECTION_RETRY_AFTER_SECONDS,
        )
    connections.add_connection(connection_id, caller.user_id)
    logger.info("websocket connected", extra={"connectionId": connection_id, "userId": caller.user_id})
    return OK


def _refused(
    event: dict[str, Any], status: int, code: str, message: str, retry_after_seconds: int | None = None
) -> dict[str, Any]:
    """A refused $connect: API Gateway answers the upgrade with this status (and body, and headers)."""
    headers = {"Content-Type": "application/json"}
    if retry_after_seconds is not None:
        headers["Retry-After"] = str(retry_after_seconds)
    request_id = event["requestContext"].get("requestId", "")
    body = {"error": {"code": code, "message": message, "requestId": request_id}}
    return {"statusCode": status, "headers": headers, "body": json.dumps(body)}


def handle_disconnect(event: dict[str, Any], connections: ConnectionStore) -> dict[str, Any]:
    connections.remove_connection(event["requestContext"]["connectionId"])
    return OK


def handle_message(event: dict[str, Any], live: LiveProgress) -> dict[str, Any]:
    """subscribe, unsubscribe, ping and $default, told apart by the route key (API Gateway picks the route
    by the message's action, $default when none matches); mistakes come back as error frames."""
    connection_id = event["requestContext"]["connectionId"]
    route = event["requestContext"].get("routeKey")
    try:
        if route == "ping":
            live.gateway.post(connection_id, pong_frame())
        elif route == DEFAULT_ROUTE:
            live.gateway.post(connection_id, unroutable_frame(event))
        elif route == "unsubscribe":
            if (message := _parse(UnsubscribeMessage, event, live, connection_id)) is not None:
                live.unsubscribe(connection_id, message.book_id)
        elif (message := _parse(SubscribeMessage, event, live, connection_id)) is not None:
            live.subscribe(connection_id, message.book_id, message.last_seq)
    except ConnectionGone:
        live.store.remove_connection(connection_id)  # the client left before its answer
    return OK


def _parse(model: type[MessageT], event: dict[str, Any], live: LiveProgress, connection_id: str) -> MessageT | None:
    """The message, or None once a BAD_MESSAGE frame has told the client why not."""
    try:
        return model.model_validate_json(event.get("body") or "{}")
    except ValidationError:
        live.gateway.post(connection_id, error_frame(ErrorCode.BAD_MESSAGE, USAGE))
        return None


def unroutable_frame(event: dict[str, Any]) -> dict[str, Any]:
    """What a message no route took gets: BAD_MESSAGE when it is not a JSON object (API Gateway could not
    read an action from it), else UNKNOWN_ACTION."""
    try:
        message = None if event.get("isBase64Encoded") else json.loads(event.get("body") or "")
    except ValueError:
        message = None
    logger.info("websocket message matched no route", extra={"connectionId": event["requestContext"]["connectionId"]})
    if not isinstance(message, dict):
        return error_frame(ErrorCode.BAD_MESSAGE, NOT_AN_OBJECT)
    return error_frame(ErrorCode.UNKNOWN_ACTION, UNKNOWN_ACTION)
