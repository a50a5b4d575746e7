"""WebSocket API subscribe, unsubscribe, ping and $default routes. Handler: ws_subscribe.handler."""

from storywink.observability import log_invocation, tracer
from storywink.realtime.websocket_routes import handle_message
from storywink.wiring import container

container()  # settings validated at cold start


@log_invocation
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    return handle_message(event, container().require_live())
