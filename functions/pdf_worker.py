"""Pdf queue -> pdf step. Handler: pdf_worker.handler."""

from storywink.observability import log_invocation, metrics, tracer
from storywink.pipeline.messages import PdfRecord
from storywink.pipeline.pdf import RenderPdf
from storywink.pipeline.sqs_batch import process_batch
from storywink.wiring import container

# Settings validated, and the PDF layout (fpdf) loaded, at cold start rather than on the first message.
_ = container().pdf_renderer


@log_invocation
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    deps = container()
    step = RenderPdf(deps.media, deps.pdf_renderer)
    return process_batch(
        event, PdfRecord, lambda task, message_id: deps.step_runner.run(step, task, message_id=message_id),
        deps.redelivery,
    )
