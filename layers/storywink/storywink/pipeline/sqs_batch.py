"""The Powertools batch loop every worker shares: typed records, partial batch responses, and a failed
record brought back soon rather than after the queue's whole visibility timeout."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel

from storywink.observability import logger
from storywink.pipeline.jobs import TaskInFlight


class Redelivery:
    """When a failed record comes back: a crash soon (``crash_seconds``), a copy refused because another
    delivery holds the task once that holder's lease could have run out (``in_flight_seconds``)."""

    def __init__(self, sqs: Any, *, crash_seconds: int, in_flight_seconds: int) -> None:
        self._sqs = sqs
        self.crash_seconds = crash_seconds
        self.in_flight_seconds = in_flight_seconds

    def schedule(self, record: SqsRecordModel, error: Exception) -> None:
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
    context: Any,
    model: type[SqsRecordModel],
    handle: Callable[[Any, str], None],
    redelivery: Redelivery,
) -> dict[str, Any]:
    """Run ``handle(body, message_id)`` per record; failed records are reported for redelivery.

    A processor per invocation: the local stack may run one handler on several threads at once.
    """

    def record_handler(record: SqsRecordModel) -> None:
        try:
            handle(record.body, record.messageId)
        except Exception as error:
            redelivery.schedule(record, error)
            raise

    processor = BatchProcessor(event_type=EventType.SQS, model=model)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
