"""Photos become pages: presigned uploads, then a confirm that checks, cleans and records them all or none."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy import func
from sqlalchemy.orm import Session

from storywink.config import Settings
from storywink.db.tables import Asset, Book, Page
from storywink.domain import rules
from storywink.domain.errors import AppError, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from storywink.services.books import require_status
from storywink.storage import keys
from storywink.storage.media import IMMUTABLE, MediaStore

if TYPE_CHECKING:
    from storywink.imaging.photos import ProcessedPhoto


@dataclass(frozen=True)
class UploadTicket:
    upload_id: str
    url: str
    headers: dict[str, str]
    expires_at: datetime
    filename: str | None


def check_page_room(book: Book, adding: int, settings: Settings) -> None:
    if len(book.pages) + adding > settings.max_pages:
        raise ValidationFailed(
            f"A book holds at most {settings.max_pages} photos; it has {len(book.pages)} and {adding} more were sent.",
            code="PAGE_LIMIT_EXCEEDED",
            details={"maxPages": settings.max_pages, "current": len(book.pages), "adding": adding},
        )


def request_uploads(
    book: Book, photos: list[tuple[str, int, str | None]], settings: Settings, media: MediaStore
) -> list[UploadTicket]:
    """Presigned PUTs bound to each photo's declared type and size."""
    require_status(book, rules.PHOTOS_EDITABLE, "take new photos")
    check_page_room(book, len(photos), settings)
    for index, (content_type, size, _) in enumerate(photos):
        if content_type not in rules.SUPPORTED_UPLOAD_TYPES:
            raise UnsupportedMediaType(
                f"Photo {index + 1} is {content_type}; supported types are {', '.join(sorted(rules.SUPPORTED_UPLOAD_TYPES))}.",
                code="UNSUPPORTED_IMAGE_TYPE",
                details={"index": index},
            )
        if size > settings.max_photo_bytes:
            raise PayloadTooLarge(
                f"Photo {index + 1} is {size} bytes; the most we accept is {settings.max_photo_bytes}.",
                code="PHOTO_TOO_LARGE",
                details={"index": index},
            )
    expires_at = datetime.now(UTC) + timedelta(seconds=settings.upload_url_ttl_seconds)
    tickets = []
    for content_type, size, filename in photos:
        upload_id = uuid.uuid4().hex
        presigned = media.presign_upload(
            keys.upload_key(book.id, upload_id), content_type, size, settings.upload_url_ttl_seconds
        )
        tickets.append(UploadTicket(upload_id, presigned.url, presigned.headers, expires_at, filename))
    return tickets


def _load_upload(media: MediaStore, book: Book, upload_id: str, settings: Settings) -> ProcessedPhoto:
    key = keys.upload_key(book.id, upload_id)
    size = media.size_of(key)
    if size is None:
        raise ValidationFailed("No photo was uploaded for this upload id.", code="UPLOAD_NOT_FOUND")
    if size > settings.max_photo_bytes:
        raise PayloadTooLarge(
            f"The photo is {size} bytes; the most we accept is {settings.max_photo_bytes}.", code="PHOTO_TOO_LARGE"
        )
    # Pillow loads with the first photo confirmed, not at every API cold start.
    from storywink.imaging.photos import process_photo

    return process_photo(media.read(key), max_bytes=settings.max_photo_bytes, max_pixels=settings.max_photo_pixels)


@dataclass(frozen=True)
class ConfirmedUploads:
    """Rows staged in the caller's transaction, and the objects that depend on its outcome."""

    pages: list[Page]
    written: list[str]  # delete these if the transaction does not commit
    consumed: list[str]  # delete these once it has


def confirm_uploads(
    session: Session, book: Book, upload_ids: list[str], settings: Settings, media: MediaStore
) -> ConfirmedUploads:
    """Stage uploaded photos as Asset + Page rows. Any bad photo fails the whole confirm: no rows, no
    objects. The caller commits, then calls `settle`, or `abandon` if the commit fails."""
    require_status(book, rules.PHOTOS_EDITABLE, "take new photos")
    # The asset id is the upload id, so confirming the same upload twice cannot make two pages.
    known = {page.asset_id for page in book.pages}
    fresh = [upload_id for upload_id in upload_ids if UUID(hex=upload_id) not in known]
    check_page_room(book, len(fresh), settings)

    processed: dict[str, ProcessedPhoto] = {}
    rejected: list[tuple[str, AppError]] = []
    for upload_id in fresh:
        try:
            processed[upload_id] = _load_upload(media, book, upload_id, settings)
        except AppError as error:
            rejected.append((upload_id, error))
    if rejected:
        # A rejected upload can never become a page: remove it now rather than wait for the lifecycle rule.
        media.delete([keys.upload_key(book.id, upload_id) for upload_id, _ in rejected])
        first = rejected[0][1]
        raise type(first)(
            first.message if len(rejected) == 1 else f"{len(rejected)} photos were rejected; nothing was added.",
            code=first.code,
            status_code=first.status_code,
            details={"rejected": [{"uploadId": uid, "code": err.code, "message": err.message} for uid, err in rejected]},
        )

    written: list[str] = []
    try:
        next_number = max((page.page_number for page in book.pages), default=0) + 1
        pages = []
        for offset, upload_id in enumerate(fresh):
            photo = processed[upload_id]
            asset_id = UUID(hex=upload_id)
            photo_key = keys.photo_key(book.id, asset_id, photo.extension)
            thumb_key = keys.thumbnail_key(book.id, asset_id)
            # Named by the asset id and never rewritten: browsers and CloudFront keep them for good.
            media.write(photo_key, photo.data, photo.content_type, cache_control=IMMUTABLE)
            written.append(photo_key)
            media.write(thumb_key, photo.thumbnail, keys.THUMBNAIL_CONTENT_TYPE, cache_control=IMMUTABLE)
            written.append(thumb_key)
            asset = Asset(
                id=asset_id,
                owner_id=book.owner_id,
                book_id=book.id,
                s3_key=photo_key,
                thumbnail_key=thumb_key,
                content_type=photo.content_type,
                size_bytes=len(photo.data),
                width=photo.width,
                height=photo.height,
            )
            session.add(asset)
            session.flush()
            page = Page(book_id=book.id, asset_id=asset_id, page_number=next_number + offset)
            session.add(page)
            pages.append(page)
        if book.cover_asset_id is None and pages:
            book.cover_asset_id = pages[0].asset_id
            pages[0].is_title_page = True
        book.updated_at = func.now()
        session.flush()
    except BaseException:
        media.delete(written)
        raise
    return ConfirmedUploads(pages, written, [keys.upload_key(book.id, upload_id) for upload_id in fresh])


def settle(media: MediaStore, confirmed: ConfirmedUploads) -> None:
    """After the commit: the uploads have become pages and are no longer needed."""
    media.delete(confirmed.consumed)


def abandon(media: MediaStore, confirmed: ConfirmedUploads) -> None:
    """The commit failed: nothing may be left behind."""
    media.delete(confirmed.written)
