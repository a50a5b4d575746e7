"""The WebSocket API's routes: $connect (token check), $disconnect, subscribe and unsubscribe."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from storywink.auth.verifier import TokenVerifier
from storywink.domain.errors import AppError
from storywink.observability import logger
from storywink.realtime.frames import error_frame
from storywink.realtime.gateway import ConnectionGone
from storywink.realtime.live import LivePublisher

OK = {"statusCode": 200}


def _token(event: dict[str, Any]) -> str | None:
    query = event.get("queryStringParameters") or {}
    if query.get("token"):
        return query["token"]
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    scheme, _, value = headers.get("authorization", "").partition(" ")
    return value if scheme.lower() == "bearer" and value else None


def handle_connect(event: dict[str, Any], verifier: TokenVerifier, publisher: LivePublisher) -> dict[str, Any]:
    connection_id = event["requestContext"]["connectionId"]
    token = _token(event)
    if not token:
        return {"statusCode": 401, "body": "A token is required (?token=...)."}
    try:
        caller = verifier.verify(token)
    except AppError as error:
        logger.info("websocket connect refused", extra={"code": error.code})
        return {"statusCode": error.status_code, "body": error.message}
    publisher.store.add_connection(connection_id, caller.user_id)
    logger.info("websocket connected", extra={"connectionId": connection_id, "userId": caller.user_id})
    return OK


def handle_disconnect(event: dict[str, Any], publisher: LivePublisher) -> dict[str, Any]:
    publisher.store.remove_connection(event["requestContext"]["connectionId"])
    return OK


def handle_message(event: dict[str, Any], publisher: LivePublisher) -> dict[str, Any]:
    """subscribe / unsubscribe {"action": ..., "bookId": ...}; mistakes come back as error frames."""
    connection_id = event["requestContext"]["connectionId"]
    try:
        message = json.loads(event.get("body") or "{}")
        action = message.get("action")
        book_id = UUID(str(message.get("bookId")))
    except (ValueError, TypeError, AttributeError):
        publisher.gateway.post(connection_id, error_frame("BAD_MESSAGE", 'Send {"action": "subscribe", "bookId": "<uuid>"}.'))
        return OK
    if action == "unsubscribe":
        publisher.unsubscribe(connection_id, book_id)
        return OK
    if action != "subscribe":
        publisher.gateway.post(connection_id, error_frame("UNKNOWN_ACTION", f"Unknown action {action!r}."))
        return OK
    try:
        with publisher.database.sessions() as session:
            publisher.subscribe(session, connection_id, book_id)
    except ConnectionGone:
        publisher.store.remove_connection(connection_id)  # the client left before its snapshot
        return OK
    # Anything committed between the snapshot and now reaches the new subscriber too (unless pushes are off).
    if publisher.pushes_enabled():
        publisher.sync(book_id, also=connection_id)
    return OK
