"""Export queue -> a zip of everything held about one user, streamed to S3. Handler: export_worker.handler."""

from storywink.observability import log_invocation, metrics, tracer
from storywink.pipeline.sqs_batch import process_batch
from storywink.privacy.jobs import ExportRecord
from storywink.wiring import container

container()  # settings validated at cold start


@log_invocation
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    deps = container()
    return process_batch(event, ExportRecord, lambda message, _: deps.export_builder.build(message.export_id), deps.redelivery)
