"""WebSocket API $connect route. Handler: ws_connect.handler."""

from storywink.observability import log_invocation, tracer
from storywink.realtime.websocket_routes import handle_connect
from storywink.wiring import container

container()  # settings validated at cold start


@log_invocation
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    deps = container()
    return handle_connect(event, deps.verifier, deps.require_connections(), deps.settings.ws_max_connections_per_user)
