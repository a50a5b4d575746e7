"""Books and their pages: create, list, read, edit, reorder, choose the cover, delete."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.orm import Session, joinedload

from storywink.db.tables import Asset, Book, Page
from storywink.domain import rules
from storywink.domain.book_details import BookDetails
from storywink.domain.enums import BookStatus
from storywink.domain.errors import BadRequest, Conflict, NotFound, ValidationFailed
from storywink.storage import keys
from storywink.storage.media import MediaStore


def get_owned_book(
    session: Session, owner_id: str, book_id: UUID, *, for_update: bool = False, with_pages: bool = True
) -> Book:
    """The caller's book; someone else's book is indistinguishable from a missing one. Its pages and their
    photos come in the same statement (one round trip, not three); ``with_pages=False`` leaves them to be
    loaded when first used, for a caller that needs the book alone."""
    query: Select[tuple[Book]] = select(Book).where(Book.id == book_id, Book.owner_id == owner_id)
    if with_pages:
        query = query.options(joinedload(Book.pages).joinedload(Page.asset, innerjoin=True))
    if for_update:
        query = query.with_for_update(of=Book, key_share=True)
    book = session.execute(query).unique().scalar_one_or_none()
    if book is None:
        raise NotFound("Book not found.", code="BOOK_NOT_FOUND")
    return book


def require_status(book: Book, allowed: frozenset[BookStatus], action: str) -> None:
    if book.status not in allowed:
        allowed_list = ", ".join(sorted(s.value for s in allowed))
        raise Conflict(
            f"A book that is {book.status.value} cannot {action} (allowed when {allowed_list}).",
            code="BOOK_STATE_CONFLICT",
            details={"status": book.status.value, "allowed": sorted(s.value for s in allowed)},
        )


def create_book(session: Session, owner_id: str, details: BookDetails, *, auto_illustrate: bool) -> Book:
    book = Book(owner_id=owner_id, status=BookStatus.DRAFT, auto_illustrate=auto_illustrate)
    book.details = details
    session.add(book)
    session.flush()
    session.refresh(book)
    return book


def update_book(session: Session, book: Book, changes: dict[str, object]) -> Book:
    if not changes:
        raise BadRequest("Nothing to update.", code="EMPTY_UPDATE")
    require_status(book, rules.DETAILS_EDITABLE, "have its details changed")
    for name, value in changes.items():
        setattr(book, name, value)
    book.updated_at = func.now()
    session.flush()
    session.refresh(book)
    return book


def delete_book(session: Session, media: MediaStore, book: Book) -> None:
    require_status(book, rules.FINAL_STATUSES | {BookStatus.DRAFT, BookStatus.STORY_READY}, "be deleted")
    # Objects first: if the rows then fail to go, a repeated DELETE finishes the job.
    media.delete_prefix(keys.book_prefix(book.id))
    session.delete(book)
    session.flush()


def encode_cursor(entry: LibraryEntry) -> str:
    raw = json.dumps([entry.updated_at.isoformat(), str(entry.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        updated_at, book_id = json.loads(raw)
        return datetime.fromisoformat(updated_at), UUID(book_id)
    except (ValueError, TypeError) as exc:
        raise ValidationFailed("The cursor is not valid.", code="INVALID_CURSOR") from exc


@dataclass(frozen=True)
class LibraryEntry:
    """What the library shows of a book: the columns a summary needs and no more (a library page reads
    neither the book's details nor its cover's other columns)."""

    id: UUID
    title: str
    child_name: str
    status: BookStatus
    page_length: int
    cover_thumbnail_key: str | None
    created_at: datetime
    updated_at: datetime


def list_books(
    session: Session, owner_id: str, *, status: BookStatus | None, limit: int, cursor: str | None
) -> tuple[list[LibraryEntry], str | None]:
    """Newest first, keyset-paginated on (updated_at, id) so pages never skip or repeat a book: each with
    its number of pages and its cover's thumbnail in the same statement. ix_books_owner_updated walks the
    owner's books in this order from the cursor on, so page 50 costs what page 1 does."""
    page_length = select(func.count()).where(Page.book_id == Book.id).correlate(Book).scalar_subquery()
    query = (
        select(
            Book.id, Book.title, Book.child_name, Book.status, page_length,
            Asset.thumbnail_key, Book.created_at, Book.updated_at,
        )
        .outerjoin(Asset, Asset.id == Book.cover_asset_id)
        .where(Book.owner_id == owner_id)
    )
    if status is not None:
        query = query.where(Book.status == status)
    if cursor:
        updated_at, book_id = decode_cursor(cursor)
        query = query.where(tuple_(Book.updated_at, Book.id) < tuple_(updated_at, book_id))
    query = query.order_by(Book.updated_at.desc(), Book.id.desc()).limit(limit + 1)
    entries = [LibraryEntry(*row) for row in session.execute(query)]
    if len(entries) > limit:
        return entries[:limit], encode_cursor(entries[limit - 1])
    return entries, None


def find_page(book: Book, page_id: UUID) -> Page:
    for page in book.pages:
        if page.id == page_id:
            return page
    raise NotFound("Page not found.", code="PAGE_NOT_FOUND")


def update_page(session: Session, book: Book, page_id: UUID, changes: dict[str, object]) -> Page:
    if not changes:
        raise BadRequest("Nothing to update.", code="EMPTY_UPDATE")
    page = find_page(book, page_id)
    require_status(book, rules.TEXT_EDITABLE, "have its page texts edited")
    for name, value in changes.items():
        setattr(page, name, value)
    book.updated_at = func.now()
    session.flush()
    return page


def reorder_pages(session: Session, book: Book, page_ids: list[UUID]) -> Book:
    require_status(book, rules.PHOTOS_EDITABLE, "have its pages reordered")
    current = {page.id: page for page in book.pages}
    if len(page_ids) != len(set(page_ids)) or set(page_ids) != set(current):
        raise ValidationFailed(
            "The new order must list every page of the book exactly once.",
            code="PAGE_SET_MISMATCH",
            details={"expected": len(current), "received": len(page_ids)},
        )
    # The (book, page_number) constraint is deferred, so numbers may collide until commit.
    for number, page_id in enumerate(page_ids, start=1):
        current[page_id].page_number = number
    book.updated_at = func.now()
    session.flush()
    session.expire(book, ["pages"])
    return book


def set_cover(session: Session, book: Book, page_id: UUID) -> Book:
    require_status(book, rules.PHOTOS_EDITABLE, "change its cover")
    chosen = find_page(book, page_id)
    for page in book.pages:
        page.is_title_page = page.id == chosen.id
    book.cover_asset_id = chosen.asset_id
    book.updated_at = func.now()
    session.flush()
    return book
