"""/v1/books/{id}/pages and /cover: edit texts, reorder, choose the cover."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from storywink.api.deps import CurrentUser, MediaDep, SessionDep, SettingsDep
from storywink.api.presenters import book_out, page_out
from storywink.api.responses import OF_A_BOOK, OF_A_USER, errors
from storywink.api.schemas import BookOut, CoverChoice, PageOrder, PageOut, PageUpdate
from storywink.services import books

router = APIRouter(prefix="/v1/books/{book_id}", tags=["pages"], responses=OF_A_USER | OF_A_BOOK | errors(409, 429))
NO_SUCH_PAGE = errors(404, s404="No such book of the caller's (`BOOK_NOT_FOUND`), or no such page in it (`PAGE_NOT_FOUND`)")


# `:uuid`: /pages/order is its own resource (PUT only), so a PATCH there is a 405, not an invalid page id.
@router.patch("/pages/{page_id:uuid}", response_model=PageOut, summary="Edit a page's text", responses=NO_SUCH_PAGE | errors(400))
def update_page(
    book_id: UUID,
    page_id: UUID,
    body: PageUpdate,
    user: CurrentUser,
    session: SessionDep,
    media: MediaDep,
    settings: SettingsDep,
):
    book = books.get_owned_book(session, user.id, book_id, for_update=True)
    return page_out(books.update_page(session, book, page_id, body.model_dump(exclude_unset=True)), media, settings)


@router.put(
    "/pages/order",
    response_model=BookOut,
    summary="Put the pages in a new order",
    responses=errors(422, s422="Not valid (`VALIDATION_FAILED`), or not every page exactly once (`PAGE_SET_MISMATCH`)"),
)
def reorder_pages(
    book_id: UUID, body: PageOrder, user: CurrentUser, session: SessionDep, media: MediaDep, settings: SettingsDep
):
    book = books.get_owned_book(session, user.id, book_id, for_update=True)
    books.reorder_pages(session, book, body.page_ids)
    return book_out(books.get_owned_book(session, user.id, book_id), media, settings)


@router.put(
    "/cover", response_model=BookOut, summary="Choose the cover photo (its page becomes the title page)", responses=NO_SUCH_PAGE
)
def set_cover(
    book_id: UUID, body: CoverChoice, user: CurrentUser, session: SessionDep, media: MediaDep, settings: SettingsDep
):
    book = books.get_owned_book(session, user.id, book_id, for_update=True)
    return book_out(books.set_cover(session, book, body.page_id), media, settings)
