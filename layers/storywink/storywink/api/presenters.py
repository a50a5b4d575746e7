"""Database rows -> response bodies, with a stable URL for every image: the same object gives the same URL
all through the media store's current window (README: Media and the CDN), so a response may be cached
until ``media.url_window().cache_seconds(now)`` and a browser keeps the pictures it already has."""

from __future__ import annotations

from storywink.api.schemas import AssetOut, BookOut, BookSummary, PageOut
from storywink.config import Settings
from storywink.db.tables import Book, Page
from storywink.services.books import LibraryEntry
from storywink.storage.media import MediaStore


def page_out(page: Page, media: MediaStore, settings: Settings) -> PageOut:
    return PageOut(
        id=page.id,
        page_number=page.page_number,
        is_title_page=page.is_title_page,
        text=page.text,
        text_confirmed=page.text_confirmed,
        illustration_notes=page.illustration_notes,
        moderation_status=page.moderation_status,
        moderation_reason=page.moderation_reason,
        photo=AssetOut.model_validate(page.asset),
        photo_url=media.view_url(page.asset.s3_key),
        thumbnail_url=media.view_url(page.asset.thumbnail_key),
        illustration_url=media.view_url(page.illustration_key) if page.illustration_key else None,
    )


def book_out(book: Book, media: MediaStore, settings: Settings) -> BookOut:
    pages = sorted(book.pages, key=lambda p: p.page_number)
    return BookOut(
        **book.details.model_dump(),
        id=book.id,
        auto_illustrate=book.auto_illustrate,
        status=book.status,
        status_reason=book.status_reason,
        page_length=len(pages),
        max_pages=settings.max_pages,
        cover_asset_id=book.cover_asset_id,
        prompt_tokens=book.prompt_tokens,
        completion_tokens=book.completion_tokens,
        has_pdf=book.pdf_key is not None,
        scheduled_start_at=book.scheduled_start_at,
        pages=[page_out(page, media, settings) for page in pages],
        created_at=book.created_at,
        updated_at=book.updated_at,
    )


def book_summary(entry: LibraryEntry, media: MediaStore) -> BookSummary:
    return BookSummary(
        id=entry.id,
        title=entry.title,
        child_name=entry.child_name,
        status=entry.status,
        page_length=entry.page_length,
        cover_thumbnail_url=media.view_url(entry.cover_thumbnail_key) if entry.cover_thumbnail_key else None,
        created_at=entry.created_at,
        updated_at=entry.updated_at,
    )
