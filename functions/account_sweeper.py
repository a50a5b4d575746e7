"""Schedule (hourly) -> delete the data of accounts gone from the user directory; resend overdue deletions.
Handler: account_sweeper.handler."""

from storywink.observability import log_invocation, metrics, tracer
from storywink.wiring import container

container()  # settings validated at cold start


@log_invocation
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    return container().account_sweep.run()
