"""/healthz: is the API up and can it reach its database."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from storywink.api.deps import DatabaseDep
from storywink.api.responses import errors
from storywink.observability import logger

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unreachable"]


@router.get(
    "/healthz",
    summary="Liveness and database check",
    response_model=None,
    responses={
        200: {"model": Health, "description": "Up, and the database answers"},
        503: {"model": Health, "description": "Up, but the database is unreachable (`degraded`)"},
        **errors(500),
    },
)
def get_health(database: DatabaseDep) -> JSONResponse:
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - whatever the failure, the answer is 503, not a 500
        logger.exception("health check: database unreachable")
        return JSONResponse({"status": "degraded", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
