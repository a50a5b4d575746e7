"""Make moto's Step Functions engine behave like AWS where the pipeline depends on it.

moto 5.2 registers a waitForTaskToken task's token once per state, so every Retry attempt reuses the
first attempt's token and replays its outcome without sending a new message. On AWS each attempt gets
a fresh token and a fresh message. This patch gives each retry attempt (State.RetryCount > 0) a fresh
token in the callback pool before the task is evaluated. It runs in the process hosting the moto server.
"""

from __future__ import annotations

from typing import Any

_APPLIED = "_storywink_fresh_retry_tokens"


def apply_moto_patches() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
        StateTaskServiceCallback,
    )

    if getattr(StateTaskServiceCallback, _APPLIED, False):
        return
    original = StateTaskServiceCallback._eval_execution

    def _eval_execution(self: Any, env: Any) -> None:
        waits_for_token = (
            self._is_integration_pattern()
            and ResourceCondition.WaitForTaskToken in self._supported_integration_patterns
        )
        context = env.states.context_object
        if waits_for_token and context.context_object_data["State"].get("RetryCount", 0) > 0:
            env.callback_pool_manager.add(context.update_task_token())
        original(self, env)

    StateTaskServiceCallback._eval_execution = _eval_execution
    setattr(StateTaskServiceCallback, _APPLIED, True)
