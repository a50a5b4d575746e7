"""Per-request context: a request id (API Gateway's when there is one), a correlation id, one access log
line and the request's metrics (ApiRequests, ApiServerErrors, ApiLatency: what the API function's
deployment rolls back on; an event stream's latency is its whole stream, so it is left out)."""

from __future__ import annotations

import re
import time
import uuid

from aws_lambda_powertools.metrics import MetricUnit
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response

from storywink.api import consistency
from storywink.observability import logger, metrics

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
        status = 500  # what the caller gets when the route raised
        try:
            response = await call_next(request)
            status = response.status_code
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            record_request(request, status, duration_ms)
        response.headers["X-Request-Id"] = request_id
        if request.method in consistency.WRITES and response.status_code < 400:
            response.headers[consistency.HEADER] = consistency.token_now()
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


def record_request(request: Request, status: int, duration_ms: float) -> None:
    metrics.add_metric(name="ApiRequests", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="ApiServerErrors", unit=MetricUnit.Count, value=1 if status >= 500 else 0)
    if not request.url.path.endswith("/status/stream"):
        metrics.add_metric(name="ApiLatency", unit=MetricUnit.Milliseconds, value=duration_ms)
