"""/healthz: is the API up and can it reach its database."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from storywink.api.deps import DatabaseDep
from storywink.observability import logger

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness and database check")
def health(database: DatabaseDep) -> JSONResponse:
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - whatever the failure, the answer is 503, not a 500
        logger.exception("health check: database unreachable")
        return JSONResponse({"status": "degraded", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
