"""What the Lambda runtime gives a handler, in-process: the handler loaded from CodeUri, a context, and
for the API served under uvicorn, one invocation (its own log context) per request."""

from __future__ import annotations

import importlib
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storywink.observability import invocation_context

Handler = Callable[[dict[str, Any], Any], Any]


def load_handler(code_uri: Path, handler: str) -> Handler:
    """Import ``module.function`` with the function's CodeUri on the import path, as Lambda does."""
    module_name, _, function_name = handler.rpartition(".")
    code_path = str(code_uri.resolve())
    if code_path not in sys.path:
        sys.path.insert(0, code_path)
    return getattr(importlib.import_module(module_name), function_name)


@dataclass
class LocalLambdaContext:
    function_name: str
    timeout_seconds: float = 30
    memory_limit_in_mb: int = 1024
    region: str = "us-east-1"
    account_id: str = "123456789012"
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[{self.function_version}]{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class AsInvocations:
    """ASGI middleware: each HTTP request runs as one invocation of ``function_name``, as API Gateway makes
    it, so the request's log lines carry that function's Lambda context and no other's."""

    def __init__(self, app: Any, function_name: str) -> None:
        self.app = app
        self.function_name = function_name

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with invocation_context(LocalLambdaContext(self.function_name)):
            await self.app(scope, receive, send)
