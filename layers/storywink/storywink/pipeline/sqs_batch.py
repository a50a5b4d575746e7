"""The batch loop every step worker shares: typed records, partial batch responses, and a failed record
brought back soon rather than after the queue's whole visibility timeout.

The loop is Powertools' `BatchProcessor` semantics in a dozen lines: a record that does not parse or whose
handling raises is reported in ``batchItemFailures``, and a batch whose every record failed raises
`EveryRecordFailed` (a function error: SQS redelivers it all the same). Powertools' batch package imports
its parser's models of every event source whenever pydantic is loaded, a tenth of a second at each cold
start (bench/cold_start.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from storywink.observability import logger
from storywink.pipeline.jobs import TaskInFlight
from storywink.sqs_record import SqsRecord


class EveryRecordFailed(Exception):
    """No record of the batch succeeded: the invocation fails, as Powertools' processor makes it."""

    def __init__(self, errors: list[BaseException]) -> None:
        super().__init__(f"all {len(errors)} records failed: " + "; ".join(f"{type(e).__name__}: {e}" for e in errors))
        self.errors = errors


class Redelivery:
    """When a failed record comes back: a crash soon (``crash_seconds``), a copy refused because another
    delivery holds the task once that holder's lease could have run out (``in_flight_seconds``)."""

    def __init__(self, sqs: Any, *, crash_seconds: int, in_flight_seconds: int) -> None:
        self._sqs = sqs
        self.crash_seconds = crash_seconds
        self.in_flight_seconds = in_flight_seconds

    def schedule(self, record: SqsRecord, error: Exception) -> None:
        seconds = self.in_flight_seconds if isinstance(error, TaskInFlight) else self.crash_seconds
        try:
            self._sqs.change_message_visibility(
                QueueUrl=self._queue_url(record.eventSourceARN), ReceiptHandle=record.receiptHandle, VisibilityTimeout=seconds
            )
        except Exception:  # noqa: BLE001 - the queue's own visibility timeout still brings it back
            logger.exception("could not shorten the redelivery", extra={"messageId": record.messageId})

    def _queue_url(self, queue_arn: str) -> str:
        # From the ARN, not GetQueueUrl: the event source mapping's role may change visibility, nothing more.
        _, partition, _, region, account, name = queue_arn.split(":", 5)
        domain = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
        return f"https://sqs.{region}.{domain}/{account}/{name}"


def process_batch(
    event: dict[str, Any],
    model: type[SqsRecord],
    handle: Callable[[Any, str], None],
    redelivery: Redelivery,
) -> dict[str, Any]:
    """Run ``handle(body, message_id)`` per record; failed records are reported for redelivery.

    Nothing is shared between invocations: the local stack may run one handler on several threads at once.
    """
    records = event.get("Records") or []
    failed: list[str] = []
    errors: list[BaseException] = []
    for raw in records:
        try:
            record = model.model_validate(raw)
        except ValidationError as error:
            # A poison message: it can never succeed, and its redrive policy takes it to the dead-letter queue.
            logger.warning("a record does not parse; reported failed", extra={"messageId": raw.get("messageId")}, exc_info=True)
            failed.append(raw.get("messageId", ""))
            errors.append(error)
            continue
        try:
            handle(record.body, record.messageId)
        except Exception as error:  # noqa: BLE001 - every failure is reported, the batch goes on
            redelivery.schedule(record, error)
            logger.warning(
                "a record failed; reported for redelivery",
                extra={"messageId": record.messageId, "error": type(error).__name__},
                exc_info=not isinstance(error, TaskInFlight),
            )
            failed.append(record.messageId)
            errors.append(error)
    if records and len(failed) == len(records):
        raise EveryRecordFailed(errors)
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}
