"""Schedule (every minute) -> start the next books of the admin batches, settle the ones that ended.
Handler: batch_worker.handler."""

from storywink.observability import log_invocation, metrics, tracer
from storywink.services.batches import run
from storywink.wiring import container

container()  # settings validated at cold start


@log_invocation
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    deps = container()
    report = run(deps.database, deps.generation, deps.settings, deps.settings.batch_books_per_minute)
    metrics.add_metric(name="BatchBooksStarted", unit="Count", value=report.started)
    return report.__dict__
