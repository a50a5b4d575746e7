"""/v1/books/{id}/status: the seed's BookProgress, computed from the database."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from storywink.api.deps import CurrentUser, SessionDep
from storywink.domain.progress import BookProgress
from storywink.services import books
from storywink.services.progress import compute_progress

router = APIRouter(prefix="/v1/books/{book_id}", tags=["status"])


@router.get("/status", response_model=BookProgress, summary="Generation progress")
def get_status(book_id: UUID, user: CurrentUser, session: SessionDep):
    return compute_progress(session, books.get_owned_book(session, user.id, book_id))
