"""The boto3 clients of one container, each created on first use. AWS_ENDPOINT_URL (moto locally) is
honoured by boto3 itself; the settings only tell S3 to use path-style addresses there."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

from storywink.config import Settings

# Pools sized for the push fan-out's parallel posts and for the local stack, where many threads share a client.
POOL_AND_RETRIES: dict[str, Any] = {"retries": {"mode": "standard", "max_attempts": 4}, "max_pool_connections": 50}


class AwsClients:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __call__(self, service: str, tuning: Config | None = None) -> Any:
        """The container's client for ``service``; with ``tuning`` (a module-level Config of the caller's,
        e.g. short timeouts for a call on the critical path), a client of its own merged from it."""
        key = service if tuning is None else f"{service}:{id(tuning)}"
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._build(service, tuning)
            return self._clients[key]

    def on_first_use(self, service: str, tuning: Config | None = None) -> Any:
        """The same client, built when it is first used rather than now: a dependency's client that an
        invocation may never call (an API request that stores no photo, a step that changes no status)."""
        return _OnFirstUse(lambda: self(service, tuning))

    def resource(self, service: str) -> Any:
        """A boto3 resource (DynamoDB tables), sharing nothing with the clients."""
        key = f"resource:{service}"
        with self._lock:
            if key not in self._clients:
                self._clients[key] = boto3.resource(service, config=Config(**POOL_AND_RETRIES))
            return self._clients[key]

    def _build(self, service: str, tuning: Config | None) -> Any:
        options: dict[str, Any] = dict(POOL_AND_RETRIES)
        if service == "s3":
            options["signature_version"] = "s3v4"
            if self._settings.aws_endpoint_url:
                # A local endpoint (127.0.0.1:port) cannot serve virtual-hosted bucket names.
                options["s3"] = {"addressing_style": "path"}
        config = Config(**options)
        return boto3.client(service, config=config if tuning is None else config.merge(tuning))


class _OnFirstUse:
    """Stands in for a client: every attribute is the real client's, which is asked for on first use."""

    def __init__(self, client: Callable[[], Any]) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client(), name)
