"""/v1/books/{id}/generate, /illustrate and /pdf: start the pipeline and fetch its result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Request, status
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy.orm import Session

from storywink.api.deps import CallerDep, ContainerDep, CurrentUser, MediaDep, SessionDep, SettingsDep
from storywink.api.limits import charge_generation
from storywink.api.responses import OF_A_BOOK, OF_A_USER, errors
from storywink.auth.claims import Caller
from storywink.config import Settings
from storywink.db.tables import Book, User
from storywink.domain.errors import NotFound, ServiceUnavailable
from storywink.domain.progress import CamelModel
from storywink.services import books, generation, idempotency, provider_budget
from storywink.services.idempotency import KEY_MAX

router = APIRouter(prefix="/v1/books/{book_id}", tags=["generation"], responses=OF_A_USER | OF_A_BOOK)


class GenerationStarted(CamelModel):
    book_id: UUID
    status: str
    execution_arn: str
    execution_name: str
    attempt: int = Field(ge=1)
    mode: str


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
    pipeline: generation.Generation,
    idempotency_key: str | None,
    plan: Callable[[Session, Book, str], generation.PlannedStart],
) -> JSONResponse:
    # The book row lock comes first: a concurrent repeat waits here, then finds the first one's record.
    book = books.get_owned_book(session, user.id, book_id, for_update=True)
    route = f"{request.method} {request.url.path}"
    key = idempotency.check_key(idempotency_key)
    if key is not None:
        prior = idempotency.find(session, user.id, key, route)
        if prior is not None:
            return JSONResponse(prior.body, status_code=prior.status_code, headers={"Idempotent-Replayed": "true"})
    # Charged under the book lock and in the start's own transaction: a replay costs nothing (answered
    # above), and a start that is refused (409, 422) or fails rolls its charge back with it.
    charge_generation(caller, user, session, settings)
    planned = plan(session, book, request.state.correlation_id)
    # Last, so the day's counter row is locked for the shortest time (until the commit below).
    provider_budget.reserve(
        session, provider_budget.planned_calls(planned, len(book.pages)), settings.provider_call_ceiling_per_day
    )
    body = _started(book, planned).model_dump(by_alias=True, mode="json")
    if key is not None:
        # In the same transaction as the start, so a concurrent repeat (waiting on the book lock) finds it.
        idempotency.remember(session, user.id, key, route, status.HTTP_202_ACCEPTED, body)
    # Named step: the start is durable before its execution exists.
    session.commit()
    try:
        pipeline.launch(planned)
    except ServiceUnavailable:
        pipeline.record_launch_failure(session, book)
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
        pipeline = container.generation
        plan = getattr(pipeline, plan_name)
        return _start_once(request, book_id, caller, user, settings, session, pipeline, idempotency_key, plan)

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

# The three ways to start the pipeline share one route shape: owner check, quota, Idempotency-Key.
for _name, _summary, _plan_name, _invalid in (
    ("generate_book", "Generate the book", "plan_generation", f"{IDEMPOTENCY_422}, or no photos (`BOOK_HAS_NO_PHOTOS`)"),
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
