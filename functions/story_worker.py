"""Story queue -> story step. Handler: story_worker.handler."""

from storywink.observability import log_invocation, metrics, tracer
from storywink.pipeline.messages import StoryRecord
from storywink.pipeline.sqs_batch import process_batch
from storywink.pipeline.story import WriteStory
from storywink.wiring import container

# Settings validated, and the story provider (its SDK) loaded, at cold start rather than on the first message.
_ = container().story_provider


@log_invocation
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    deps = container()
    step = WriteStory(deps.media, deps.story_provider)
    return process_batch(
        event, StoryRecord, lambda task, message_id: deps.step_runner.run(step, task, message_id=message_id),
        deps.redelivery,
    )
