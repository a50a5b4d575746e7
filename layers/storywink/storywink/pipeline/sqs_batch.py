"""The Powertools batch loop every worker shares: typed records, partial batch responses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel


def process_batch(
    event: dict[str, Any], context: Any, model: type[SqsRecordModel], handle: Callable[[Any, str], None]
) -> dict[str, Any]:
    """Run ``handle(body, message_id)`` per record; failed records are reported for redelivery.

    A processor per invocation: the local stack may run one handler on several threads at once.
    """
    processor = BatchProcessor(event_type=EventType.SQS, model=model)
    return process_partial_response(
        event=event,
        record_handler=lambda record: handle(record.body, record.messageId),
        processor=processor,
        context=context,
    )
