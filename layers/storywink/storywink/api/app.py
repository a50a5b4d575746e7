"""The FastAPI application factory (no work at import time beyond building routes)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from storywink.api.errors import install_error_handlers
from storywink.api.middleware import RequestContextMiddleware
from storywink.api.routers import admin, books, generation, health, pages, photos, status
from storywink.config import get_settings

API_VERSION = "1.0.0"


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(
        title="Storywink API",
        version=API_VERSION,
        description="Turn a family's photos into an illustrated picture book. Every /v1 route needs a bearer token.",
    )
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origin_list,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID", "X-Request-Id"],
        expose_headers=["X-Request-Id", "Retry-After"],
    )
    install_error_handlers(app)
    for router in (health.router, books.router, photos.router, pages.router, generation.router, status.router, admin.router, admin.page_router):
        app.include_router(router)
    return app
