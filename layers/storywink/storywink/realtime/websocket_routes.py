"""The WebSocket API's routes: $connect (token check), $disconnect, subscribe, unsubscribe and ping."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from pydantic import BaseModel, Field, ValidationError

from storywink.domain.errors import AppError
from storywink.observability import logger
from storywink.realtime.frames import error_frame, pong_frame
from storywink.realtime.gateway import ConnectionGone

# $connect and $disconnect touch the connections table alone: they load no database and no pushes.
if TYPE_CHECKING:
    from storywink.auth.verifier import TokenVerifier
    from storywink.realtime.connections import ConnectionStore
    from storywink.realtime.live import LiveProgress

OK = {"statusCode": 200}
USAGE = 'Send {"action": "subscribe", "bookId": "<uuid>", "lastSeq": <the last seq you have, optional>}.'


class BookMessage(BaseModel):
    """The body of a subscribe or unsubscribe: {"action", "bookId", "lastSeq"?}."""

    book_id: UUID = Field(alias="bookId")
    last_seq: int | None = Field(None, alias="lastSeq", ge=0, strict=True)


def _token(event: dict[str, Any]) -> str | None:
    query = event.get("queryStringParameters") or {}
    if query.get("token"):
        return query["token"]
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    scheme, _, value = headers.get("authorization", "").partition(" ")
    return value if scheme.lower() == "bearer" and value else None


def handle_connect(event: dict[str, Any], verifier: TokenVerifier, connections: ConnectionStore) -> dict[str, Any]:
    connection_id = event["requestContext"]["connectionId"]
    token = _token(event)
    if not token:
        return {"statusCode": 401, "body": "A token is required (?token=...)."}
    try:
        caller = verifier.verify(token)
    except AppError as error:
        logger.info("websocket connect refused", extra={"code": error.code})
        return {"statusCode": error.status_code, "body": error.message}
    connections.add_connection(connection_id, caller.user_id)
    logger.info("websocket connected", extra={"connectionId": connection_id, "userId": caller.user_id})
    return OK


def handle_disconnect(event: dict[str, Any], connections: ConnectionStore) -> dict[str, Any]:
    connections.remove_connection(event["requestContext"]["connectionId"])
    return OK


def handle_message(event: dict[str, Any], live: LiveProgress) -> dict[str, Any]:
    """subscribe, unsubscribe and ping, told apart by the route key (API Gateway picks the route by the
    message's action); mistakes come back as error frames."""
    connection_id = event["requestContext"]["connectionId"]
    route = event["requestContext"].get("routeKey")
    try:
        if route == "ping":
            live.gateway.post(connection_id, pong_frame())
            return OK
        try:
            message = BookMessage.model_validate_json(event.get("body") or "{}")
        except ValidationError:
            live.gateway.post(connection_id, error_frame("BAD_MESSAGE", USAGE))
            return OK
        if route == "unsubscribe":
            live.unsubscribe(connection_id, message.book_id)
        else:
            live.subscribe(connection_id, message.book_id, message.last_seq)
    except ConnectionGone:
        live.store.remove_connection(connection_id)  # the client left before its answer
    return OK
