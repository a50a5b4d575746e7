"""/v1/books: create, "my library", read, edit, delete."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from storywink.api.conditional import CONDITIONAL, IfNoneMatch, conditional_json
from storywink.api.consistency import ReadSessionDep
from storywink.api.deps import CurrentUser, MediaDep, SessionDep, SettingsDep
from storywink.api.presenters import book_out, book_summary
from storywink.api.responses import OF_A_BOOK, OF_A_USER, errors
from storywink.api.schemas import BookCreate, BookOut, BookPage, BookUpdate
from storywink.domain.enums import BookStatus
from storywink.services import books

router = APIRouter(prefix="/v1/books", tags=["books"], responses=OF_A_USER)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=BookOut,
    summary="Create a book draft",
    responses={
        status.HTTP_201_CREATED: {"links": {"getBook": {"operationId": "getBook", "parameters": {"book_id": "$response.body#/id"}}}},
        **errors(422, 429),
    },
)
def create_book(body: BookCreate, user: CurrentUser, session: SessionDep, media: MediaDep, settings: SettingsDep):
    book = books.create_book(session, user.id, body, auto_illustrate=body.auto_illustrate)
    return book_out(book, media, settings)


@router.get(
    "",
    response_model=BookPage,
    summary="My library, newest first",
    responses=CONDITIONAL
    | errors(422, s422="A query parameter is not valid (`VALIDATION_FAILED`), or the cursor is not one we gave (`INVALID_CURSOR`)"),
)
def list_books(
    user: CurrentUser,
    session: ReadSessionDep,
    media: MediaDep,
    status_filter: Annotated[BookStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    if_none_match: IfNoneMatch = None,
):
    found, next_cursor = books.list_books(session, user.id, status=status_filter, limit=limit, cursor=cursor)
    page = BookPage(
        items=[book_summary(entry, media) for entry in found],
        next_cursor=next_cursor,
    )
    return conditional_json(page, if_none_match)


@router.get(
    "/{book_id}", response_model=BookOut, summary="A book with its pages in order", responses=CONDITIONAL | OF_A_BOOK
)
def get_book(
    book_id: UUID,
    user: CurrentUser,
    session: ReadSessionDep,
    media: MediaDep,
    settings: SettingsDep,
    if_none_match: IfNoneMatch = None,
):
    return conditional_json(book_out(books.get_owned_book(session, user.id, book_id), media, settings), if_none_match)


@router.patch(
    "/{book_id}", response_model=BookOut, summary="Change a book's details", responses=OF_A_BOOK | errors(400, 409, 429)
)
def update_book(
    book_id: UUID, body: BookUpdate, user: CurrentUser, session: SessionDep, media: MediaDep, settings: SettingsDep
):
    book = books.get_owned_book(session, user.id, book_id, for_update=True)
    return book_out(books.update_book(session, book, body.model_dump(exclude_unset=True)), media, settings)


@router.delete(
    "/{book_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a book and its files",
    responses=OF_A_BOOK | errors(409, 429),
)
def delete_book(book_id: UUID, user: CurrentUser, session: SessionDep, media: MediaDep) -> Response:
    books.delete_book(session, media, books.get_owned_book(session, user.id, book_id, for_update=True))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
