"""The boto3 clients of one container, each created on first use. AWS_ENDPOINT_URL (moto locally) is
honoured by boto3 itself; the settings only tell S3 to use path-style addresses there."""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

from storywink.config import Settings


class AwsClients:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __call__(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self._build(service)
            return self._clients[service]

    def resource(self, service: str) -> Any:
        """A boto3 resource (DynamoDB tables), sharing nothing with the clients."""
        key = f"resource:{service}"
        with self._lock:
            if key not in self._clients:
                self._clients[key] = boto3.resource(service)
            return self._clients[key]

    def _build(self, service: str) -> Any:
        # Pool sized for the local stack, where many worker threads share one client.
        options: dict[str, Any] = {"retries": {"mode": "standard", "max_attempts": 4}, "max_pool_connections": 50}
        if service == "s3":
            options["signature_version"] = "s3v4"
            if self._settings.aws_endpoint_url:
                # A local endpoint (127.0.0.1:port) cannot serve virtual-hosted bucket names.
                options["s3"] = {"addressing_style": "path"}
        return boto3.client(service, config=Config(**options))
