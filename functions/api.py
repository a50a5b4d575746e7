"""HTTP API -> FastAPI through Mangum. Handler: api.handler."""

from aws_lambda_powertools.logging import correlation_paths
from mangum import Mangum

from storywink.api.app import create_app
from storywink.observability import log_invocation, metrics, tracer
from storywink.wiring import container

# The app holds this container's dependencies (settings validated here, at cold start).
_asgi = Mangum(create_app(container()), lifespan="off")


@log_invocation(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    return _asgi(event, context)
