"""Account deletion queue -> one bounded step of a user's deletion (the rest goes to a fresh message).
Handler: account_deletion_worker.handler."""

from storywink.observability import log_invocation, metrics, tracer
from storywink.pipeline.sqs_batch import process_batch
from storywink.privacy.jobs import DeletionRecord
from storywink.wiring import container

container()  # settings validated at cold start


@log_invocation
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    deps = container()
    return process_batch(event, DeletionRecord, lambda message, _: deps.account_deleter.run(message.user_id), deps.redelivery)
