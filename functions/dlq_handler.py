"""Step dead-letter queues -> record, fail the waiting task, count. Handler: dlq_handler.handler."""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from storywink.observability import log_invocation, metrics, tracer
from storywink.pipeline.dead_letters import handle_dead_letter
from storywink.wiring import container

container()  # settings validated at cold start


@log_invocation
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    deps = container()

    def record_handler(record: SQSRecord) -> None:
        handle_dead_letter(
            deps.database,
            deps.callbacks,
            record.message_id,
            record.body,
            record.event_source_arn,
            int(record.attributes.approximate_receive_count),
        )

    # Raw records, not typed ones: a dead letter is often the malformed message that got it there.
    processor = BatchProcessor(event_type=EventType.SQS)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
