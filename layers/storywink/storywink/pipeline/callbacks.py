"""Report a task's outcome to Step Functions (the callback pattern's other half)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from storywink.observability import logger

# The execution already moved on (timed out, was stopped, or this is a duplicate delivery).
STALE_TOKEN_ERRORS = {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}


class TaskCallbacks:
    def __init__(self, stepfunctions: Any) -> None:
        self._sfn = stepfunctions

    def _send(self, call: str, **kwargs: Any) -> bool:
        try:
            getattr(self._sfn, call)(**kwargs)
            return True
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in STALE_TOKEN_ERRORS:
                logger.info("task token no longer waiting", extra={"call": call, "awsError": code})
                return False
            raise

    def success(self, task_token: str, output: dict[str, Any]) -> bool:
        return self._send("send_task_success", taskToken=task_token, output=json.dumps(output))

    def failure(self, task_token: str, error: str, cause: str) -> bool:
        # Causes end up in the execution's state (the Map collects one per page): keep them short.
        return self._send("send_task_failure", taskToken=task_token, error=error[:256], cause=cause[:1000])
