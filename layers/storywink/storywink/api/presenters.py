"""Database rows -> response bodies, with short-lived presigned URLs for every image."""

from __future__ import annotations

from storywink.api.schemas import AssetOut, BookOut, BookSummary, PageOut
from storywink.config import Settings
from storywink.db.tables import Book, Page
from storywink.storage.media import MediaStore


def page_out(page: Page, media: MediaStore, settings: Settings) -> PageOut:
    ttl = settings.download_url_ttl_seconds
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
        photo_url=media.presign_download(page.asset.s3_key, ttl),
        thumbnail_url=media.presign_download(page.asset.thumbnail_key, ttl),
        illustration_url=media.presign_download(page.illustration_key, ttl) if page.illustration_key else None,
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


def book_summary(book: Book, page_length: int, media: MediaStore, settings: Settings) -> BookSummary:
    cover = book.cover_asset
    return BookSummary(
        id=book.id,
        title=book.title,
        child_name=book.child_name,
        status=book.status,
        page_length=page_length,
        cover_thumbnail_url=(
            media.presign_download(cover.thumbnail_key, settings.download_url_ttl_seconds) if cover else None
        ),
        created_at=book.created_at,
        updated_at=book.updated_at,
    )
