"""/v1/books/{id}/photos: presigned uploads, then confirm them into pages."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, status

from storywink.api.deps import CallerDep, CurrentUser, MediaDep, SessionDep, SettingsDep
from storywink.api.limits import charge_photos
from storywink.api.presenters import book_out
from storywink.api.responses import OF_A_BOOK, OF_A_USER, errors
from storywink.api.schemas import (
    BookOut,
    PhotoConfirmRequest,
    PhotoUploadRequest,
    PhotoUploadResponse,
    PhotoUploadTicket,
)
from storywink.services import books, photos

router = APIRouter(
    prefix="/v1/books/{book_id}/photos", tags=["photos"], responses=OF_A_USER | OF_A_BOOK | errors(409, 413, 415)
)
TOO_MANY_PAGES = "`PAGE_LIMIT_EXCEEDED`: the book would hold more than `MAX_PAGES` photos (details: maxPages, current, adding)"


@router.post(
    "",
    response_model=PhotoUploadResponse,
    summary="Presigned uploads for new photos",
    responses=errors(
        422,
        429,
        s422=f"Not valid (`VALIDATION_FAILED`), or {TOO_MANY_PAGES}",
        s429="Too many changes this minute (`RATE_LIMITED`), or the daily photo quota is used up (`QUOTA_EXCEEDED`); "
        "details: QuotaDetails",
    ),
)
def request_photo_uploads(
    book_id: UUID,
    body: PhotoUploadRequest,
    caller: CallerDep,
    user: CurrentUser,
    session: SessionDep,
    media: MediaDep,
    settings: SettingsDep,
):
    book = books.get_owned_book(session, user.id, book_id)
    tickets = photos.request_uploads(
        book, [(p.content_type, p.size, p.filename) for p in body.photos], settings, media
    )
    # Charged once the request is known to be valid and before any URL leaves: signing stores nothing, so a
    # refused request hands nothing out, and photos refused for their type or size cost nothing.
    charge_photos(caller, user, session, settings, len(body.photos))
    return PhotoUploadResponse(
        uploads=[
            PhotoUploadTicket(
                upload_id=t.upload_id, url=t.url, headers=t.headers, expires_at=t.expires_at, filename=t.filename
            )
            for t in tickets
        ]
    )


@router.post(
    "/confirm",
    status_code=status.HTTP_201_CREATED,
    response_model=BookOut,
    summary="Check uploaded photos and add them as pages (all or none)",
    responses=errors(
        413,
        415,
        422,
        429,
        s413="An uploaded photo is larger than `MAX_PHOTO_BYTES`: `PHOTO_TOO_LARGE` (details.rejected: every photo refused)",
        s415="An uploaded photo's bytes are not JPEG, PNG, WebP or HEIC/HEIF: `UNSUPPORTED_IMAGE_TYPE` "
        "(details.rejected: every photo refused)",
        s422=f"Not valid (`VALIDATION_FAILED`); nothing uploaded for an id (`UPLOAD_NOT_FOUND`); a photo is corrupt or "
        f"out of bounds (`IMAGE_CORRUPT`, `IMAGE_TOO_SMALL`, `IMAGE_DIMENSIONS_TOO_LARGE`); or {TOO_MANY_PAGES}",
    ),
)
def confirm_photo_uploads(
    book_id: UUID, body: PhotoConfirmRequest, user: CurrentUser, session: SessionDep, media: MediaDep, settings: SettingsDep
):
    book = books.get_owned_book(session, user.id, book_id, for_update=True)
    confirmed = photos.confirm_uploads(session, book, body.upload_ids, settings, media)
    # Named step: the pages are durable before the uploads they came from are removed.
    try:
        session.commit()
    except BaseException:
        photos.abandon(media, confirmed)
        raise
    photos.settle(media, confirmed)
    session.refresh(book)
    return book_out(books.get_owned_book(session, user.id, book_id), media, settings)
