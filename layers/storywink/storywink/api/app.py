"""The FastAPI application factory (no work at import time beyond building routes)."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from pydantic.alias_generators import to_camel
from pydantic.json_schema import models_json_schema

from storywink.api.errors import UnexpectedErrorMiddleware, install_error_handlers
from storywink.api.limits import rate_limit
from storywink.api.middleware import RequestContextMiddleware
from storywink.api.responses import RATE_LIMITED
from storywink.api.routers import account, admin, books, generation, health, me, pages, photos, status
from storywink.api.schemas import DOCUMENTED_ONLY
from storywink.wiring import Container

API_VERSION = "1.0.0"
SERVERS = [
    {"url": "http://127.0.0.1:8000", "description": "The local stack (`storywink dev`)"},
    {
        "url": "https://{apiId}.execute-api.{region}.amazonaws.com",
        "description": "A deployed stack's API Gateway HTTP API (the stack's HttpApiUrl output)",
        "variables": {
            "apiId": {"default": "abcdef1234", "description": "The HTTP API's id"},
            "region": {"default": "us-east-1", "description": "The stack's AWS region"},
        },
    },
]
TAGS = [
    {"name": "books", "description": "Create, list, read, change and delete books"},
    {"name": "photos", "description": "Upload photos and confirm them into pages"},
    {"name": "pages", "description": "Edit page texts, their order and the cover"},
    {"name": "generation", "description": "Start the pipeline and fetch the PDF"},
    {"name": "status", "description": "Progress, polled or streamed"},
    {"name": "me", "description": "The caller's own account: plan and usage, deleting it, exporting everything"},
    {"name": "admin", "description": "Operators only: dead letters and queues"},
    {"name": "health", "description": "Liveness"},
]


def operation_id(route: APIRoute) -> str:
    """createBook, getBookStatus, ...: the route's name in camelCase."""
    return to_camel(route.name)


def _without_null(parameter: dict[str, Any]) -> None:
    """An optional query or header parameter is one left out, never a null (a header cannot even say null,
    and "null" is a string): FastAPI's `anyOf [..., {"type": "null"}]` for `X | None` loses the null."""
    schema = parameter["schema"]
    branches = [branch for branch in schema.get("anyOf", []) if branch != {"type": "null"}]
    if len(branches) == 1 and len(schema["anyOf"]) == 2:
        del schema["anyOf"]
        schema.update(branches[0])


def _document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, plus the schemas no route can attach itself (the SSE frames), minus FastAPI's
    own 422 (`{"detail": [...]}`, a shape this API never sends): it is added to every operation with a
    parameter, even one that cannot fail validation (the redrive's free-string queue name, a 404 when unknown);
    every operation that can answer 422 lists it itself, with the ErrorResponse shape."""
    if app.openapi_schema is None:
        schema = FastAPI.openapi(app)
        for operations in schema["paths"].values():
            for operation in operations.values():
                for parameter in operation.get("parameters", []):
                    _without_null(parameter)
                default = operation["responses"].get("422", {}).get("content", {}).get("application/json", {})
                if default.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
                    del operation["responses"]["422"]
        for name in ("HTTPValidationError", "ValidationError"):
            schema["components"]["schemas"].pop(name, None)
        _, extra = models_json_schema(
            [(model, "serialization") for model in DOCUMENTED_ONLY], ref_template="#/components/schemas/{model}"
        )
        for name, model_schema in extra["$defs"].items():
            schema["components"]["schemas"].setdefault(name, model_schema)
    return app.openapi_schema


def create_app(container: Container) -> FastAPI:
    """The API of one container: its routes reach the container's dependencies through `app.state`."""
    settings = container.settings
    app = FastAPI(
        title="Storywink API",
        version=API_VERSION,
        description="Turn a family's photos into an illustrated picture book. Every /v1 route needs a bearer token.",
        servers=SERVERS,
        openapi_tags=TAGS,
        generate_unique_id_function=operation_id,
    )
    app.openapi = lambda: _document(app)  # type: ignore[method-assign]
    app.state.container = container
    # Innermost first: an unexpected error becomes the 500 here, so the two outside it still apply.
    app.add_middleware(UnexpectedErrorMiddleware)
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origin_list,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID", "X-Request-Id", "If-None-Match",
                       "Storywink-Consistency"],
        expose_headers=["X-Request-Id", "Retry-After", "ETag", "Storywink-Consistency"],
    )
    install_error_handlers(app)
    app.include_router(health.router)
    # Every change and every read a user makes counts against a per-minute limit (admin routes are admins' only).
    for router in (books.router, photos.router, pages.router, generation.router, status.router, me.router, account.router):
        app.include_router(router, dependencies=[Depends(rate_limit)], responses=RATE_LIMITED)
    # Not limited (a deleted account has nothing left to charge; see the router).
    app.include_router(account.deletion_router)
    for router in (admin.router, admin.page_router):
        app.include_router(router)
    return app
