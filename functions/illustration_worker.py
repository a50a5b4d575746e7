"""Illustration queue -> illustration step. Handler: illustration_worker.handler."""

from storywink.observability import log_invocation, metrics, tracer
from storywink.pipeline.illustrate import IllustratePage
from storywink.pipeline.messages import IllustrationRecord
from storywink.pipeline.sqs_batch import process_batch
from storywink.wiring import container

# Settings validated, and the illustration provider (its SDK) loaded, at cold start rather than on the first message.
_ = container().illustration_provider


@log_invocation
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    deps = container()
    step = IllustratePage(deps.media, deps.illustration_provider)
    return process_batch(
        event,
        IllustrationRecord,
        lambda task, message_id: deps.step_runner.run(step, task, message_id=message_id, page_id=task.page_id),
        deps.redelivery,
    )
