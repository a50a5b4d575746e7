"""Posting frames to WebSocket connections through the API Gateway Management API."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def management_client(endpoint: str) -> Any:
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint,
        config=Config(retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=50),
    )


class ConnectionGone(Exception):
    """The client went away (API Gateway answers 410 GoneException)."""


class ConnectionGateway:
    def __init__(self, client: Any) -> None:
        self.client = client

    def post(self, connection_id: str, frame: dict[str, Any]) -> None:
        try:
            self.client.post_to_connection(
                ConnectionId=connection_id, Data=json.dumps(frame, separators=(",", ":")).encode()
            )
        except ClientError as exc:
            error = exc.response.get("Error", {}).get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if error == "GoneException" or status == 410:
                raise ConnectionGone(connection_id) from exc
            raise
