"""/healthz (liveness: the API answers, touching nothing) and /readyz (readiness: it can reach its
database, asked at most once every READINESS_CACHE_SECONDS per container)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from storywink.api.deps import ContainerDep
from storywink.api.responses import errors
from storywink.db.readiness import DatabaseReadiness

router = APIRouter(tags=["health"])


class Liveness(BaseModel):
    status: Literal["ok"]


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unreachable"]


def get_readiness(container: ContainerDep) -> DatabaseReadiness:
    return container.readiness


@router.get(
    "/healthz",
    summary="Liveness: the API answers (no database query)",
    response_model=Liveness,
    responses=errors(500),
)
def get_health() -> Liveness:
    return Liveness(status="ok")


@router.get(
    "/readyz",
    summary="Readiness: the API can reach its database (checked at most every few seconds)",
    response_model=None,
    responses={
        200: {"model": Health, "description": "Ready: the database answers"},
        503: {"model": Health, "description": "Not ready: the database is unreachable (`degraded`)"},
        **errors(500),
    },
)
def get_readiness_status(readiness: Annotated[DatabaseReadiness, Depends(get_readiness)]) -> JSONResponse:
    if not readiness.check().database_ok:
        return JSONResponse({"status": "degraded", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
