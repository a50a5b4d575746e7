"""WebSocket API $disconnect route. Handler: ws_disconnect.handler."""

from storywink.observability import log_invocation, tracer
from storywink.realtime.websocket_routes import handle_disconnect
from storywink.wiring import container

container()  # settings validated at cold start


@log_invocation
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    return handle_disconnect(event, container().require_connections())
