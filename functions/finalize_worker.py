"""Finalize queue -> finalize step. Handler: finalize_worker.handler."""

from storywink.observability import log_invocation, metrics, tracer
from storywink.pipeline.finalize import FinalizeBook
from storywink.pipeline.messages import FinalizeRecord
from storywink.pipeline.sqs_batch import process_batch
from storywink.wiring import container

container()  # settings validated at cold start


@log_invocation
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    deps = container()
    step = FinalizeBook()
    return process_batch(
        event, FinalizeRecord, lambda task, message_id: deps.step_runner.run(step, task, message_id=message_id),
        deps.redelivery,
    )
