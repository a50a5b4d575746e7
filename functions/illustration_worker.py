"""Illustration queue -> illustration step. Handler: illustration_worker.handler."""

from storywink.observability import logger, metrics, tracer
from storywink.pipeline.entrypoints import handle_illustration
from storywink.pipeline.messages import IllustrationRecord
from storywink.pipeline.sqs_batch import process_batch


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    return process_batch(event, context, IllustrationRecord, handle_illustration)
