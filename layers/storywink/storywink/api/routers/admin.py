"""/v1/admin: operator routes (the `admin` group only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from storywink.api.deps import AdminCaller, AwsDep, SettingsDep
from storywink.services import dead_letter_queues as dlq
from storywink.services.queue_dashboard import dashboard

router = APIRouter(prefix="/v1/admin", tags=["admin"])
# The dashboard page itself holds no data (it asks for an admin token and calls /v1/admin/queues).
page_router = APIRouter()
QUEUES_PAGE = Path(__file__).parents[1] / "static" / "queues.html"


@page_router.get("/admin/queues", include_in_schema=False, response_class=HTMLResponse)
def queue_dashboard_page() -> HTMLResponse:
    return HTMLResponse(QUEUES_PAGE.read_text(encoding="utf-8"))


@router.get("/dead-letters", summary="Depth and a peek at every step dead-letter queue")
def list_dead_letters(admin: AdminCaller, settings: SettingsDep, aws: AwsDep) -> dict[str, Any]:
    queues = dlq.queues_from_json(settings.dead_letter_queues)
    return {"queues": [dlq.describe(aws("sqs"), queue) for queue in queues.values()]}


@router.post("/dead-letters/{queue}/redrive", summary="Move a dead-letter queue's messages back to its step queue")
def redrive_dead_letters(queue: str, admin: AdminCaller, settings: SettingsDep, aws: AwsDep) -> dict[str, Any]:
    return dlq.redrive(aws("sqs"), dlq.find_queue(dlq.queues_from_json(settings.dead_letter_queues), queue))


@router.get("/queues", summary="Queue dashboard: depths, in-flight, oldest message age, dead letters, recent executions")
def queue_dashboard(admin: AdminCaller, settings: SettingsDep, aws: AwsDep) -> dict[str, Any]:
    return dashboard(aws, dlq.queues_from_json(settings.dead_letter_queues), settings.state_machine_arn)
