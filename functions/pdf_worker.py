"""Pdf queue -> pdf step. Handler: pdf_worker.handler."""

from storywink.observability import logger, metrics, tracer
from storywink.pipeline.entrypoints import handle_pdf
from storywink.pipeline.messages import PdfRecord
from storywink.pipeline.sqs_batch import process_batch


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    return process_batch(event, context, PdfRecord, handle_pdf)
