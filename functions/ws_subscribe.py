"""WebSocket API subscribe and unsubscribe route. Handler: ws_subscribe.handler."""

from storywink.observability import logger, tracer
from storywink.realtime.websocket_routes import handle_message
from storywink.wiring import container

container()  # settings validated at cold start


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    return handle_message(event, container().require_live())
