"""/v1/admin: operator routes (the `admin` group only)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Response, status
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from storywink.api.deps import AdminCaller, AwsDep, SessionDep, SettingsDep
from storywink.api.responses import AUTHENTICATED, errors
from storywink.api.schemas import StrictCamel
from storywink.config import Settings
from storywink.domain.enums import BookStatus
from storywink.services import batches
from storywink.services import dead_letter_queues as dlq
from storywink.services.queue_dashboard import dashboard

NOT_CONFIGURED = "Dead-letter queues are not configured (`DLQ_NOT_CONFIGURED`), or the signing keys are unavailable"
router = APIRouter(
    prefix="/v1/admin", tags=["admin"], responses=AUTHENTICATED | errors(403, 503, s503=NOT_CONFIGURED)
)
# The dashboard page itself holds no data (it asks for an admin token and calls /v1/admin/queues).
page_router = APIRouter()
QUEUES_PAGE = Path(__file__).parents[1] / "static" / "queues.html"
ADMIN_STYLES = Path(__file__).parents[1] / "static" / "admin.css"


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


@page_router.get("/admin/admin.css", include_in_schema=False)
def admin_page_styles() -> Response:
    return Response(ADMIN_STYLES.read_text(encoding="utf-8"), media_type="text/css")


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


# ---------------------------------------------------------------- batches
DEFAULT_BATCH_MAX_BOOKS: int = Settings.model_fields["batch_max_books"].default


class BatchFilter(StrictCamel):
    status: BookStatus | SkipJsonSchema[None] = None
    user_id: Annotated[str, Field(min_length=1, max_length=128)] | SkipJsonSchema[None] = None


class BatchRequest(StrictCamel):
    # Exactly one selection: said in the schema too, so clients and fuzzers know before they send.
    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": ["bookIds"]}, {"required": ["filter"]}]})

    operation: batches.Operation = Field(
        description="`rerender-pdf`: the PDF step again for finished books; `regenerate`: a full generation; "
        "`retry-failed-pages`: the failed pages only"
    )
    # Left out is None; an explicit null is refused like any other wrong type (the schema allows no null).
    book_ids: Annotated[list[UUID], Field(min_length=1, json_schema_extra={"maxItems": DEFAULT_BATCH_MAX_BOOKS})] = Field(
        None, description="The books, or give a filter"
    )
    filter: BatchFilter = Field(
        None, description=f"Every book matching it (oldest first; at most `BATCH_MAX_BOOKS`, {DEFAULT_BATCH_MAX_BOOKS})"
    )

    @model_validator(mode="after")
    def _one_selection(self) -> BatchRequest:
        if (self.book_ids is None) == (self.filter is None):
            raise ValueError("give either bookIds or filter")
        return self

    def selection(self) -> batches.Selection:
        if self.filter is None:
            return batches.Selection(book_ids=self.book_ids)
        return batches.Selection(status=self.filter.status, user_id=self.filter.user_id)


class BatchAccepted(BaseModel):
    id: UUID
    total: int


class BatchBook(BaseModel):
    bookId: UUID
    status: Literal["QUEUED", "RUNNING", "DONE", "FAILED"]
    outcomeCode: str | None = Field(description="DONE: the book's status; FAILED: why (an error code or the book's status)")
    outcomeMessage: str | None
    startedAt: datetime | None
    finishedAt: datetime | None


class BatchProgress(BaseModel):
    id: UUID
    operation: str
    selection: dict[str, Any]
    createdAt: datetime
    finishedAt: datetime | None = Field(description="When the last book was settled; null while any is queued or running")
    total: int
    queued: int
    running: int
    done: int
    failed: int
    books: list[BatchBook]


@router.post(
    "/batches",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Act on many books: re-render PDFs, regenerate or retry failed pages, fed to the pipeline at a bounded rate",
    response_model=None,
    responses={202: {"model": BatchAccepted, "description": "Accepted: the batch worker starts its books"}}
    | errors(
        409,
        422,
        s409="The filter selects no book (`BATCH_EMPTY`) or more than `BATCH_MAX_BOOKS` (`BATCH_TOO_LARGE`) now",
        s422="Not valid (`VALIDATION_FAILED`), or more book ids than `BATCH_MAX_BOOKS` (`BATCH_TOO_LARGE`)",
    ),
)
def create_batch(body: BatchRequest, admin: AdminCaller, session: SessionDep, settings: SettingsDep) -> JSONResponse:
    batch, total = batches.create(session, body.operation, body.selection(), admin.user_id, settings.batch_max_books)
    return JSONResponse(BatchAccepted(id=batch.id, total=total).model_dump(mode="json"), status_code=status.HTTP_202_ACCEPTED)


@router.get(
    "/batches/{batch_id}",
    summary="A batch's progress: counts and each book's outcome",
    **_answers(BatchProgress, errors(404, 422, s404="No such batch: `BATCH_NOT_FOUND`")),
)
def get_batch(batch_id: UUID, admin: AdminCaller, session: SessionDep) -> JSONResponse:
    return JSONResponse(BatchProgress.model_validate(batches.progress(session, batch_id)).model_dump(mode="json"))
