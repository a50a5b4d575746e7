"""Make moto behave like AWS where the local stack depends on it. Both patches run in the process hosting
the moto server.

- Step Functions: moto 5.2 registers a waitForTaskToken task's token once per state, so every Retry
  attempt reuses the first attempt's token and replays its outcome without sending a new message. On
  AWS each attempt gets a fresh token and a fresh message. The patch gives each retry attempt
  (State.RetryCount > 0) a fresh token in the callback pool before the task is evaluated.
- SQS FIFO: while one message of a group is in flight, AWS hands out no other message of that group.
  moto checks this against the groups in flight when a long poll *starts*, so a receiver already
  waiting takes the group's next message while another consumer still holds the previous one (the
  push fan-out would then run twice at once for a book). The patch receives from a FIFO queue in
  single passes, one receiver at a time, each pass checking the groups in flight at that moment.
"""

from __future__ import annotations

import threading
import time
from typing import Any

_APPLIED = "_storywink_patched"
# How often a waiting FIFO receiver looks again by itself: new and deleted messages wake it at once, a
# message whose visibility timeout ran out is seen on the next look (as moto's own long poll does).
FIFO_RECHECK_SECONDS = 1.0


def apply_moto_patches() -> None:
    _fresh_retry_tokens()
    _fifo_group_in_flight()


def _fresh_retry_tokens() -> None:
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


def _fifo_group_in_flight() -> None:
    from moto.sqs.models import Queue, SQSBackend

    if getattr(SQSBackend, _APPLIED, False):
        return
    receive = SQSBackend.receive_message
    delete = Queue.delete_message
    receiving = threading.Lock()

    def receive_message(
        self: Any, queue_name: str, count: int, wait_seconds_timeout: int, visibility_timeout: int, *args: Any, **kwargs: Any
    ) -> Any:
        queue = self.get_queue(queue_name)
        if not queue.fifo_queue:
            return receive(self, queue_name, count, wait_seconds_timeout, visibility_timeout, *args, **kwargs)
        deadline = time.monotonic() + wait_seconds_timeout
        while True:
            with receiving:  # one pass at a time: two receivers never take the same group together
                found = receive(self, queue_name, count, 0, visibility_timeout, *args, **kwargs)
            left = deadline - time.monotonic()
            if found or left <= 0:
                return found
            with queue._messages_lock:  # woken by a new message or a finished one (see below)
                queue._messages_lock.wait(timeout=min(FIFO_RECHECK_SECONDS, left))

    def delete_message(self: Any, receipt_handle: str) -> None:
        delete(self, receipt_handle)
        if self.fifo_queue:
            with self._messages_lock:  # the message's group may be free now
                self._messages_lock.notify_all()

    SQSBackend.receive_message = receive_message
    Queue.delete_message = delete_message
    setattr(SQSBackend, _APPLIED, True)
