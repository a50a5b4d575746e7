"""The FastAPI application factory (no work at import time beyond building routes)."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from storywink.api.errors import UnexpectedErrorMiddleware, install_error_handlers
from storywink.api.limits import rate_limit_changes
from storywink.api.middleware import RequestContextMiddleware
from storywink.api.routers import admin, books, generation, health, me, pages, photos, status
from storywink.wiring import Container

API_VERSION = "1.0.0"


def create_app(container: Container) -> FastAPI:
    """The API of one container: its routes reach the container's dependencies through `app.state`."""
    settings = container.settings
    app = FastAPI(
        title="Storywink API",
        version=API_VERSION,
        description="Turn a family's photos into an illustrated picture book. Every /v1 route needs a bearer token.",
    )
    app.state.container = container
    # Innermost first: an unexpected error becomes the 500 here, so the two outside it still apply.
    app.add_middleware(UnexpectedErrorMiddleware)
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origin_list,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID", "X-Request-Id"],
        expose_headers=["X-Request-Id", "Retry-After"],
    )
    install_error_handlers(app)
    app.include_router(health.router)
    # Every change a user makes counts against their per-minute rate limit (admin routes are admins' only).
    for router in (books.router, photos.router, pages.router, generation.router, status.router, me.router):
        app.include_router(router, dependencies=[Depends(rate_limit_changes)])
    for router in (admin.router, admin.page_router):
        app.include_router(router)
    return app
