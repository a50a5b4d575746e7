"""Make moto behave like AWS where the local stack depends on it, and keep its server from being the
bottleneck. The patches run in the process hosting the moto server.

- Step Functions: moto 5.2 registers a waitForTaskToken task's token once per state, so every Retry
  attempt reuses the first attempt's token and replays its outcome without sending a new message. On
  AWS each attempt gets a fresh token and a fresh message. The patch gives each retry attempt
  (State.RetryCount > 0) a fresh token in the callback pool before the task is evaluated.
- SQS FIFO: while one message of a group is in flight, AWS hands out no other message of that group.
  moto checks this against the groups in flight when a long poll *starts*, so a receiver already
  waiting takes the group's next message while another consumer still holds the previous one (the
  push fan-out would then run twice at once for a book). The patch receives from a FIFO queue in
  single passes, one receiver at a time, each pass checking the groups in flight at that moment.
- SQS StartMessageMoveTask: moto 5.2 lacks it and answers 500, which botocore retries four times with
  backoff (up to 15 s) before the dead-letter redrive falls back to moving messages itself. The patch
  answers at once with AWS's client error for an operation it will not do (`UnsupportedOperation`,
  400), so the fallback starts at once, as it would against an AWS region without the move task.

The others change no behaviour; they keep moto's server from becoming the busy local stack's
bottleneck (measured with a profiler under `bench/scale.py`):

- moto's server lists its own package directory (one `stat` per service) on every request, under the
  lock that serialises dispatch; the list never changes while it runs, so it is read once.
- SQS checks each message it hands out against the queue's retention period by computing every queue
  attribute, two of which count the whole queue (a receive over n messages costs n²); the check reads
  the retention period alone.
- SQS reads the clock through `datetime` (and an import) for every message it looks at, and a receive
  or send looks at every message of the queue; its module reads `time.time()` instead.
- Step Functions parses each JSONPath (`$.bookId`, …) with a freshly built parser every time a state
  reads one; the parsed paths are kept, keyed by their text.
- Every request looks up its handler class's method names with `inspect.getmembers`; they are kept
  per class.
"""

from __future__ import annotations

import functools
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
    _move_task_refused_at_once()
    _module_list_read_once()
    _retention_check_reads_one_attribute()
    _json_paths_parsed_once()
    _sqs_clock_without_datetime()
    _method_names_kept_per_class()


def _replace(owner: Any, name: str, build: Any) -> None:
    """Set ``owner.name`` to ``build(original)``, once however often the patches are applied."""
    original = getattr(owner, name)
    if getattr(original, _APPLIED, False):
        return
    replacement = build(original)
    setattr(replacement, _APPLIED, True)
    setattr(owner, name, replacement)


def _module_list_read_once() -> None:
    from moto import backends

    def read_once(original: Any) -> Any:
        modules = tuple(original())
        return lambda: modules

    _replace(backends, "list_of_moto_modules", read_once)


def _retention_check_reads_one_attribute() -> None:
    from moto.core.utils import unix_time
    from moto.sqs.models import Message, SQSBackend

    def one_attribute(_original: Any) -> Any:
        def is_message_valid_based_on_retention_period(self: SQSBackend, queue_name: str, message: Message) -> bool:
            retention_period = int(self.get_queue(queue_name).message_retention_period)
            return retention_period + message.sent_timestamp / 1000 > unix_time()  # type: ignore[operator]

        return is_message_valid_based_on_retention_period

    _replace(SQSBackend, "is_message_valid_based_on_retention_period", one_attribute)


def _json_paths_parsed_once() -> None:
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    for module in (json_path, result_path):
        _replace(module, "parse", functools.lru_cache(maxsize=4096))


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


def _move_task_refused_at_once() -> None:
    from moto.sqs.exceptions import SQSException
    from moto.sqs.responses import SQSResponse

    if hasattr(SQSResponse, "start_message_move_task"):  # a moto with the move task keeps its own
        return

    def start_message_move_task(self: SQSResponse) -> None:
        raise SQSException("UnsupportedOperation", "StartMessageMoveTask is not available here.")

    SQSResponse.start_message_move_task = start_message_move_task  # type: ignore[attr-defined]


def _sqs_clock_without_datetime() -> None:
    from moto.sqs import models

    def without_datetime(original: Any) -> Any:
        return lambda dt=None: time.time() if dt is None else original(dt)

    _replace(models, "unix_time", without_datetime)
    _replace(models, "unix_time_millis", lambda original: lambda dt=None: models.unix_time(dt) * 1000.0)


def _method_names_kept_per_class() -> None:
    from moto.core import responses

    _replace(responses, "method_names_from_class", functools.cache)
