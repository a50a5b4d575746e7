"""EventBridge Scheduler (a one-time schedule) -> start a book's generation asked for later.
Handler: scheduled_start.handler.

The schedule's input names the book and the schedule; the start is the immediate generate's own. A fire
the book no longer expects (cancelled, replaced, duplicate) starts nothing."""

from storywink.observability import log_invocation, metrics, tracer
from storywink.services.scheduled_starts import ScheduledStartInput, fire
from storywink.wiring import container

container()  # settings validated at cold start


@log_invocation
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    deps = container()
    outcome = fire(deps.database, deps.generation, deps.settings, ScheduledStartInput.model_validate(event))
    metrics.add_metric(name="ScheduledStarts", unit="Count", value=1 if outcome == "started" else 0)
    return {"outcome": outcome}
