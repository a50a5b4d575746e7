"""Schedule (every five minutes) -> partitions made ahead, retention applied, stale and orphaned media swept,
stuck books repaired. Handler: maintenance.handler."""

from storywink.observability import log_invocation, metrics, tracer
from storywink.wiring import container

container()  # settings validated at cold start


@log_invocation
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    return container().maintenance.run(context.get_remaining_time_in_millis() / 1000)
