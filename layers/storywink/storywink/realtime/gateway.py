"""Posting frames to WebSocket connections through the API Gateway Management API."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError


def management_client(endpoint: str, timeout_seconds: float) -> Any:
    """Short timeouts and no retries: a post that fails is sent again by the book's next fan-out (or the
    subscriber's resubscribe), never by holding up the others."""
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint,
        config=Config(
            connect_timeout=timeout_seconds,
            read_timeout=timeout_seconds,
            retries={"mode": "standard", "max_attempts": 1},
            max_pool_connections=50,
        ),
    )


class ConnectionGone(Exception):
    """The client went away (API Gateway answers 410 GoneException)."""


class PostTimedOut(Exception):
    """API Gateway did not take the frame in time: the connection is stuck or far too slow."""


class ConnectionGateway:
    def __init__(self, client: Any) -> None:
        self.client = client

    def post(self, connection_id: str, frame: dict[str, Any]) -> None:
        try:
            self.client.post_to_connection(
                ConnectionId=connection_id, Data=json.dumps(frame, separators=(",", ":")).encode()
            )
        except (ConnectTimeoutError, ReadTimeoutError) as exc:
            raise PostTimedOut(connection_id) from exc
        except ClientError as exc:
            error = exc.response.get("Error", {}).get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if error == "GoneException" or status == 410:
                raise ConnectionGone(connection_id) from exc
            raise

    def close(self, connection_id: str) -> bool:
        """Close a connection (API Gateway's DeleteConnection); False when it was already gone."""
        try:
            self.client.delete_connection(ConnectionId=connection_id)
            return True
        except ClientError as exc:
            error = exc.response.get("Error", {}).get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if error == "GoneException" or status == 410:
                return False
            raise
