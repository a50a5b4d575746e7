"""/v1/books/{id}/generate (now, or later with startAt), /schedule (cancel that), /illustrate, /retry and /pdf:
start the pipeline and fetch its result."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, Field, RootModel
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy.orm import Session

from storywink.api.deps import CallerDep, ContainerDep, CurrentUser, MediaDep, SessionDep, SettingsDep
from storywink.api.responses import OF_A_BOOK, OF_A_USER, errors
from storywink.api.schemas import StrictCamel
from storywink.auth.claims import Caller
from storywink.config import Settings
from storywink.db.tables import Book, User
from storywink.domain.errors import NotFound, ServiceUnavailable
from storywink.domain.progress import CamelModel
from storywink.services import books, generation, idempotency, scheduled_starts, starts
from storywink.services.idempotency import KEY_MAX
from storywink.wiring import Container

router = APIRouter(prefix="/v1/books/{book_id}", tags=["generation"], responses=OF_A_USER | OF_A_BOOK)


class GenerationStarted(CamelModel):
    book_id: UUID
    status: str
    execution_arn: str
    execution_name: str
    attempt: int = Field(ge=1)
    mode: str


class GenerationScheduled(CamelModel):
    book_id: UUID
    status: str
    scheduled_start_at: datetime = Field(description="When the generation will start (to the second, UTC)")


class GenerateAccepted(RootModel[GenerationStarted | GenerationScheduled]):
    """A start now (the execution), or a start scheduled for later (its time)."""


class GenerateRequest(StrictCamel):
    start_at: AwareDatetime | SkipJsonSchema[None] = Field(
        None,
        description="Start later instead of now: an RFC 3339 time in the future, at most `SCHEDULE_MAX_DAYS` (30) "
        "days ahead. The generation is charged to the quota when it starts, not now; "
        "`DELETE /v1/books/{bookId}/schedule` cancels it",
    )


class PdfLink(CamelModel):
    url: str
    expires_in: int


def _started(book, started: generation.PlannedStart) -> GenerationStarted:  # type: ignore[no-untyped-def]
    return GenerationStarted(
        book_id=book.id,
        status=book.status.value,
        execution_arn=started.execution_arn,
        execution_name=started.execution_name,
        attempt=started.attempt,
        mode=started.mode,
    )


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Repeat a request safely: a repeat gets the first response.",
        # Checked by the route (422 INVALID_IDEMPOTENCY_KEY), so written into the schema only.
        json_schema_extra={"minLength": 1, "maxLength": KEY_MAX},
    ),
]


def _start_once(
    request: Request,
    book_id: UUID,
    caller: Caller,
    user: User,
    settings: Settings,
    session: Session,
    container: Container,
    idempotency_key: str | None,
    plan_name: str,
    start_at: datetime | None = None,
) -> JSONResponse:
    # The book row lock comes first: a concurrent repeat waits here, then finds the first one's record.
    book = books.get_owned_book(session, user.id, book_id, for_update=True)
    route = f"{request.method} {request.url.path}"
    key = idempotency.check_key(idempotency_key)
    if key is not None:
        prior = idempotency.find(session, user.id, key, route)
        if prior is not None:
            return JSONResponse(prior.body, status_code=prior.status_code, headers={"Idempotent-Replayed": "true"})
    if start_at is not None:
        return _schedule(request, book, caller, settings, session, container, key, route, start_at)
    pipeline = container.generation
    superseded = book.schedule_name
    # Charged under the book lock and in the start's own transaction: a replay costs nothing (answered
    # above), and a start that is refused (409, 422) or fails rolls its charge back with it.
    planned = starts.begin(
        session, settings, book, user, getattr(pipeline, plan_name), request.state.correlation_id, exempt=caller.is_admin
    )
    body = _started(book, planned).model_dump(by_alias=True, mode="json")
    if key is not None:
        # In the same transaction as the start, so a concurrent repeat (waiting on the book lock) finds it.
        idempotency.remember(session, user.id, key, route, status.HTTP_202_ACCEPTED, body)
    # Named step: the start is durable before its execution exists.
    session.commit()
    starts.launch(session, pipeline, book, planned)
    if superseded is not None:
        container.generation_scheduler.delete(superseded)  # a start now replaces the one asked for later
    return JSONResponse(body, status_code=status.HTTP_202_ACCEPTED)


def _schedule(
    request: Request,
    book: Book,
    caller: Caller,
    settings: Settings,
    session: Session,
    container: Container,
    key: str | None,
    route: str,
    start_at: datetime,
) -> JSONResponse:
    """Ask for the generation at ``start_at``: nothing is charged or started until then."""
    scheduler = container.generation_scheduler
    moment = scheduled_starts.check_start_at(start_at, settings.schedule_max_days)
    planned = scheduler.plan(session, container.generation, book, moment, caller.is_admin, request.state.correlation_id)
    body = GenerationScheduled(book_id=book.id, status=book.status.value, scheduled_start_at=moment).model_dump(
        by_alias=True, mode="json"
    )
    if key is not None:
        idempotency.remember(session, book.owner_id, key, route, status.HTTP_202_ACCEPTED, body)
    # Named step: the book names its schedule before the schedule exists, so its fire always finds it.
    session.commit()
    try:
        scheduler.create(planned)
    except ServiceUnavailable:
        scheduler.record_create_failure(session, books.get_owned_book(session, book.owner_id, book.id, for_update=True), planned.name)
        session.commit()
        raise
    return JSONResponse(body, status_code=status.HTTP_202_ACCEPTED)


def _starting_route(plan_name: str) -> Callable[..., JSONResponse]:
    """A route that plans a start with Generation.<plan_name>, then launches it."""

    def endpoint(
        book_id: UUID,
        request: Request,
        caller: CallerDep,
        user: CurrentUser,
        settings: SettingsDep,
        session: SessionDep,
        container: ContainerDep,
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:
        return _start_once(request, book_id, caller, user, settings, session, container, idempotency_key, plan_name)

    return endpoint


IDEMPOTENCY_422 = "Not valid (`VALIDATION_FAILED`, `INVALID_IDEMPOTENCY_KEY`, `IDEMPOTENCY_KEY_REUSED`)"
STARTS = errors(
    409,
    429,
    503,
    s409="Already running (`GENERATION_IN_PROGRESS`), or the book's status does not allow this start "
    "(`BOOK_STATE_CONFLICT`)",
    s429="Too many changes this minute (`RATE_LIMITED`), or the daily generation quota is used up "
    "(`QUOTA_EXCEEDED`); details: QuotaDetails",
    s503="The service has reached today's ceiling on AI provider calls (`PROVIDER_BUDGET_EXHAUSTED`, with "
    "Retry-After; details: resetsAt), the pipeline did not start or is not configured (`PIPELINE_UNAVAILABLE`, "
    "`PIPELINE_NOT_CONFIGURED`), or another dependency is unavailable; try again later",
)
STARTS[503]["headers"] = {
    "Retry-After": {
        "description": "With `PROVIDER_BUDGET_EXHAUSTED`: seconds until the daily ceiling resets (midnight UTC)",
        "schema": {"type": "integer", "minimum": 1},
    }
}

GENERATE_409 = (
    "Already running (`GENERATION_IN_PROGRESS`), already scheduled (`GENERATION_ALREADY_SCHEDULED`), or the "
    "book's status does not allow this start (`BOOK_STATE_CONFLICT`)"
)
GENERATE_422 = (
    f"{IDEMPOTENCY_422}, no photos (`BOOK_HAS_NO_PHOTOS`), or a startAt in the past (`START_AT_NOT_IN_FUTURE`) "
    "or too far ahead (`START_AT_TOO_FAR`)"
)
GENERATE_503 = (
    f"{STARTS[503]['description']}; with startAt, the schedule could not be made or scheduling is not configured "
    "(`SCHEDULER_UNAVAILABLE`, `SCHEDULER_NOT_CONFIGURED`)"
)

GENERATE_ERRORS = STARTS | errors(409, 422, 503, s409=GENERATE_409, s422=GENERATE_422, s503=GENERATE_503)
GENERATE_ERRORS[503]["headers"] = STARTS[503]["headers"]


@router.post(
    "/generate",
    name="generate_book",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=GenerateAccepted,
    summary="Generate the book, now or at startAt",
    responses=GENERATE_ERRORS,
)
def generate_book(
    book_id: UUID,
    request: Request,
    caller: CallerDep,
    user: CurrentUser,
    settings: SettingsDep,
    session: SessionDep,
    container: ContainerDep,
    idempotency_key: IdempotencyKey = None,
    body: GenerateRequest | None = None,
) -> JSONResponse:
    start_at = body.start_at if body is not None else None
    return _start_once(
        request, book_id, caller, user, settings, session, container, idempotency_key, "plan_generation", start_at
    )


# Illustrate and retry share one route shape: owner check, quota, Idempotency-Key.
for _name, _summary, _plan_name, _invalid in (
    ("illustrate_book", "Illustrate a book whose story is ready", "plan_illustration", IDEMPOTENCY_422),
    (
        "retry_book",
        "Redo only the failed pages, then re-finalize and re-render the PDF",
        "plan_retry",
        f"{IDEMPOTENCY_422}, or no page failed (`NOTHING_TO_RETRY`)",
    ),
):
    router.add_api_route(
        f"/{_name.removesuffix('_book')}",
        _starting_route(_plan_name),
        methods=["POST"],
        name=_name,
        status_code=status.HTTP_202_ACCEPTED,
        response_model=GenerationStarted,
        summary=_summary,
        responses=STARTS | errors(422, s422=_invalid),
    )


@router.delete(
    "/schedule",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Cancel the book's scheduled start",
    responses=errors(404, s404="No such book of the caller's (`BOOK_NOT_FOUND`), or it has no scheduled start "
                     "(`SCHEDULE_NOT_FOUND`)"),
)
def cancel_scheduled_start(book_id: UUID, user: CurrentUser, session: SessionDep, container: ContainerDep) -> Response:
    scheduler = container.generation_scheduler
    name = scheduler.cancel(session, books.get_owned_book(session, user.id, book_id, for_update=True))
    session.commit()  # the book forgets it first: a fire from here on finds nothing to start
    scheduler.delete(name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/pdf",
    response_model=PdfLink,
    summary="A short-lived download link for the book's PDF",
    responses=errors(404, s404="No such book of the caller's (`BOOK_NOT_FOUND`), or no PDF yet (`PDF_NOT_READY`)"),
)
def get_book_pdf(book_id: UUID, user: CurrentUser, session: SessionDep, media: MediaDep, settings: SettingsDep):
    book = books.get_owned_book(session, user.id, book_id)
    if not book.pdf_key:
        raise NotFound("This book has no PDF yet.", code="PDF_NOT_READY", details={"status": book.status.value})
    filename = "".join(ch for ch in book.title if ch.isascii() and (ch.isalnum() or ch in " -_")).strip() or "storywink-book"
    ttl = settings.download_url_ttl_seconds
    return PdfLink(url=media.presign_download(book.pdf_key, ttl, filename=f"{filename}.pdf"), expires_in=ttl)
