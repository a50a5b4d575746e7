"""One JSON error shape for every failure: {"error": {"code", "message", "requestId", "details"?}}."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response
from starlette.routing import Match

from storywink.domain.errors import AppError, ProviderBudgetExhausted, RateLimited
from storywink.observability import logger

HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_FAILED",
    429: "RATE_LIMITED",
}


def request_id_of(request: Request) -> str:
    return getattr(request.state, "request_id", "unknown")


def error_response(
    request: Request, status_code: int, code: str, message: str, details: Any = None, headers: dict | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message, "requestId": request_id_of(request)}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status_code, headers=headers)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(part) for part in err.get("loc", ())), "message": err.get("msg", ""), "type": err.get("type")}
        for err in exc.errors()
    ]


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path. Starlette's 405 names only the first route whose path
    matched, but GET and POST /v1/books (say) are two routes, and `Allow` must list the resource's all."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):  # the routes of included routers too
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= route.methods or set()
    return ", ".join(sorted(methods))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> JSONResponse:
        if exc.is_operational:
            logger.info("request rejected", extra={"code": exc.code, "status": exc.status_code})
        else:
            logger.exception("request failed", extra={"code": exc.code, "status": exc.status_code})
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        if isinstance(exc, RateLimited | ProviderBudgetExhausted):
            headers = {"Retry-After": str(exc.retry_after_seconds)}
        return error_response(request, exc.status_code, exc.code, exc.message, exc.details, headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(
            request, 422, "VALIDATION_FAILED", "The request is not valid.", _validation_details(exc)
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.__cause__, UnicodeDecodeError):
            # FastAPI answers 400 for a JSON body that is not UTF-8, and 422 for one that is not JSON: both
            # are a body that cannot be read, so both are the one VALIDATION_FAILED.
            issue = {"field": "body", "message": "The body is not JSON in UTF-8.", "type": "json_invalid"}
            return error_response(request, 422, "VALIDATION_FAILED", "The request is not valid.", [issue])
        code = HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ").capitalize()
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": _allowed_methods(request)}
        return error_response(request, exc.status_code, code, message, headers=headers)


class UnexpectedErrorMiddleware(BaseHTTPMiddleware):
    """Turns an exception no handler knows into the generic 500, inside the request-context and CORS
    middlewares, so that answer too carries the request and correlation ids and the CORS headers (a
    handler for Exception would run in Starlette's outermost middleware, outside them all)."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        try:
            return await call_next(request)
        except Exception:  # noqa: BLE001 - the one place an unknown failure becomes an answer
            logger.exception("unhandled error", extra={"requestId": request_id_of(request)})
            return error_response(request, 500, "INTERNAL_ERROR", "Something went wrong on our side. Please try again.")
