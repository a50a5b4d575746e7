"""Schedule (every minute) -> fail the tasks of workers that died without a word. Handler: lease_sweeper.handler."""

from storywink.observability import log_invocation, metrics, tracer
from storywink.pipeline.sweeper import sweep_expired_leases
from storywink.wiring import container

container()  # settings validated at cold start


@log_invocation
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    deps = container()
    return {"swept": sweep_expired_leases(deps.database, deps.callbacks)}
