"""Per-request context: a request id (API Gateway's when there is one), a correlation id, and one access log line."""

from __future__ import annotations

import re
import time
import uuid

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response

from storywink.observability import logger

SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _request_id(request: Request) -> str:
    event = request.scope.get("aws.event") or {}
    from_gateway = (event.get("requestContext") or {}).get("requestId")
    if from_gateway:
        return str(from_gateway)
    supplied = request.headers.get("x-request-id", "")
    return supplied if SAFE_ID.match(supplied) else uuid.uuid4().hex


class RequestContextMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        request_id = _request_id(request)
        supplied_correlation = request.headers.get("x-correlation-id", "")
        correlation_id = supplied_correlation if SAFE_ID.match(supplied_correlation) else request_id
        request.state.request_id = request_id
        request.state.correlation_id = correlation_id
        logger.thread_safe_append_keys(requestId=request_id, correlationId=correlation_id)
        started = time.perf_counter()
        try:
            response = await call_next(request)
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
        response.headers["X-Request-Id"] = request_id
        response.headers["X-Correlation-Id"] = correlation_id
        logger.info(
            "request",
            extra={
                "action": f"{request.method} {request.scope.get('route').path if request.scope.get('route') else request.url.path}",
                "status": response.status_code,
                "duration": duration_ms,
                "userId": getattr(request.state, "user_id", None),
                "bookId": request.path_params.get("book_id") if hasattr(request, "path_params") else None,
            },
        )
        logger.thread_safe_remove_keys(["requestId", "correlationId"])
        return response
