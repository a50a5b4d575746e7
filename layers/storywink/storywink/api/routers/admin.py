"""/v1/admin: operator routes (the `admin` group only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from storywink.api.deps import AdminCaller, SettingsDep
from storywink.services import dead_letter_queues as dlq

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.get("/dead-letters", summary="Depth and a peek at every step dead-letter queue")
def list_dead_letters(admin: AdminCaller, settings: SettingsDep) -> dict[str, Any]:
    queues = dlq.queues_from_json(settings.dead_letter_queues)
    return {"queues": [dlq.describe(queue) for queue in queues.values()]}


@router.post("/dead-letters/{queue}/redrive", summary="Move a dead-letter queue's messages back to its step queue")
def redrive_dead_letters(queue: str, admin: AdminCaller, settings: SettingsDep) -> dict[str, Any]:
    return dlq.redrive(dlq.find_queue(dlq.queues_from_json(settings.dead_letter_queues), queue))
