"""/v1/books/{id}/generate, /illustrate and /pdf: start the pipeline and fetch its result."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, status
from pydantic import Field

from storywink.api.deps import CurrentUser, MediaDep, SessionDep, SettingsDep
from storywink.domain.errors import NotFound
from storywink.domain.progress import CamelModel
from storywink.services import books, generation

router = APIRouter(prefix="/v1/books/{book_id}", tags=["generation"])


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


def _started(book, started: generation.StartedExecution) -> GenerationStarted:  # type: ignore[no-untyped-def]
    return GenerationStarted(
        book_id=book.id,
        status=book.status.value,
        execution_arn=started.execution_arn,
        execution_name=started.execution_name,
        attempt=started.attempt,
        mode=started.mode,
    )


@router.post("/generate", status_code=status.HTTP_202_ACCEPTED, response_model=GenerationStarted, summary="Generate the book")
def generate(book_id: UUID, request: Request, user: CurrentUser, session: SessionDep):
    book = books.get_owned_book(session, user.id, book_id, for_update=True)
    started = generation.start_generation(session, book, request.state.correlation_id)
    return _started(book, started)


@router.post(
    "/illustrate",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=GenerationStarted,
    summary="Illustrate a book whose story is ready",
)
def illustrate(book_id: UUID, request: Request, user: CurrentUser, session: SessionDep):
    book = books.get_owned_book(session, user.id, book_id, for_update=True)
    started = generation.start_illustration(session, book, request.state.correlation_id)
    return _started(book, started)


@router.get("/pdf", response_model=PdfLink, summary="A short-lived download link for the book's PDF")
def pdf(book_id: UUID, user: CurrentUser, session: SessionDep, media: MediaDep, settings: SettingsDep):
    book = books.get_owned_book(session, user.id, book_id)
    if not book.pdf_key:
        raise NotFound("This book has no PDF yet.", code="PDF_NOT_READY", details={"status": book.status.value})
    filename = "".join(ch for ch in book.title if ch.isascii() and (ch.isalnum() or ch in " -_")).strip() or "storywink-book"
    ttl = settings.download_url_ttl_seconds
    return PdfLink(url=media.presign_download(book.pdf_key, ttl, filename=f"{filename}.pdf"), expires_in=ttl)
