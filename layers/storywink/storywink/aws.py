"""boto3 clients, created lazily and once per process. AWS_ENDPOINT_URL (moto locally) is honoured by boto3 itself."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config


@lru_cache(maxsize=None)
def client(service: str) -> Any:
    # Pool sized for the local stack, where many worker threads share one client.
    options: dict[str, Any] = {"retries": {"mode": "standard", "max_attempts": 4}, "max_pool_connections": 50}
    if service == "s3":
        options["signature_version"] = "s3v4"
        if os.environ.get("AWS_ENDPOINT_URL"):
            # A local endpoint (127.0.0.1:port) cannot serve virtual-hosted bucket names.
            options["s3"] = {"addressing_style": "path"}
    return boto3.client(service, config=Config(**options))


def reset_clients() -> None:
    client.cache_clear()
