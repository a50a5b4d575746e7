"""/v1/admin: operator routes (the `admin` group only)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from storywink.api.deps import AdminCaller, AwsDep, SettingsDep
from storywink.api.responses import AUTHENTICATED, errors
from storywink.services import dead_letter_queues as dlq
from storywink.services.queue_dashboard import dashboard

NOT_CONFIGURED = "Dead-letter queues are not configured (`DLQ_NOT_CONFIGURED`), or the signing keys are unavailable"
router = APIRouter(
    prefix="/v1/admin", tags=["admin"], responses=AUTHENTICATED | errors(403, 503, s503=NOT_CONFIGURED)
)
# The dashboard page itself holds no data (it asks for an admin token and calls /v1/admin/queues).
page_router = APIRouter()
QUEUES_PAGE = Path(__file__).parents[1] / "static" / "queues.html"


# What the routes answer is built by the services as plain dicts; these models document it (the bodies are
# sent as built, not re-serialized through them).
class DeadLetter(BaseModel):
    messageId: str
    bookId: str | None
    pageId: str | None
    receiveCount: int
    sentAt: int = Field(description="When SQS first received it, in milliseconds since the epoch")
    body: str = Field(description="The message body, cut at 2,000 characters")


class DeadLetterQueueState(BaseModel):
    name: str
    depth: int
    inFlight: int
    messages: list[DeadLetter] = Field(description=f"A peek at up to {dlq.PEEK_LIMIT}; they stay in the queue")


class DeadLetters(BaseModel):
    queues: list[DeadLetterQueueState]


class Redrive(BaseModel):
    name: str
    method: Literal["StartMessageMoveTask", "receive-send-delete"]
    taskHandle: str | SkipJsonSchema[None] = Field(None, description="With StartMessageMoveTask: the task moving the messages")
    moved: int | SkipJsonSchema[None] = Field(None, description="With receive-send-delete: how many messages were moved")


class QueueState(BaseModel):
    name: str
    kind: Literal["step", "dead-letter"]
    depth: int
    inFlight: int
    delayed: int
    oldestMessageAgeSeconds: int | None = Field(description="From CloudWatch; null when it has no recent data")
    messages: list[DeadLetter] | SkipJsonSchema[None] = Field(None, description="Dead-letter queues only: a peek at their messages")


class Execution(BaseModel):
    name: str
    bookId: str
    status: str = Field(description="The Step Functions execution status: RUNNING, SUCCEEDED, FAILED, ...")
    startedAt: datetime
    stoppedAt: datetime | None


class QueueDashboard(BaseModel):
    generatedAt: datetime
    queues: list[QueueState]
    executions: list[Execution] = Field(description="The latest executions of the generation state machine")


def _answers(model: type[BaseModel], errors_too: dict[int | str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Route arguments: the body documented by ``model``, sent as the service built it."""
    success = {200: {"model": model, "description": "Successful Response"}}
    return {"response_model": None, "responses": success | (errors_too or {})}


@page_router.get("/admin/queues", include_in_schema=False, response_class=HTMLResponse)
def queue_dashboard_page() -> HTMLResponse:
    return HTMLResponse(QUEUES_PAGE.read_text(encoding="utf-8"))


@router.get("/dead-letters", summary="Depth and a peek at every step dead-letter queue", **_answers(DeadLetters))
def list_dead_letters(admin: AdminCaller, settings: SettingsDep, aws: AwsDep) -> dict[str, Any]:
    queues = dlq.queues_from_json(settings.dead_letter_queues)
    return {"queues": [dlq.describe(aws("sqs"), queue) for queue in queues.values()]}


QueueName = Annotated[
    str,
    # A name outside the list is the service's 404 DLQ_NOT_FOUND, so the enum is written into the schema only.
    PathParam(description="The step whose dead letters to move", json_schema_extra={"enum": list(dlq.STEP_QUEUE_NAMES)}),
]


@router.post(
    "/dead-letters/{queue}/redrive",
    summary="Move a dead-letter queue's messages back to its step queue",
    **_answers(Redrive, errors(404, s404="No dead-letter queue of that name: `DLQ_NOT_FOUND`")),
)
def redrive_dead_letters(queue: QueueName, admin: AdminCaller, settings: SettingsDep, aws: AwsDep) -> dict[str, Any]:
    return dlq.redrive(aws("sqs"), dlq.find_queue(dlq.queues_from_json(settings.dead_letter_queues), queue))


@router.get(
    "/queues",
    summary="Queue dashboard: depths, in-flight, oldest message age, dead letters, recent executions",
    **_answers(QueueDashboard),
)
def get_queue_dashboard(admin: AdminCaller, settings: SettingsDep, aws: AwsDep) -> dict[str, Any]:
    return dashboard(aws, dlq.queues_from_json(settings.dead_letter_queues), settings.state_machine_arn)
