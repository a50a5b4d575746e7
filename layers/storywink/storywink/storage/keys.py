"""Every object of a book lives under books/{bookId}/, so deleting a book is deleting one prefix."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


def book_prefix(book_id: UUID | str) -> str:
    return f"books/{book_id}/"


def upload_key(book_id: UUID | str, upload_id: str) -> str:
    return f"books/{book_id}/uploads/{upload_id}"


def photo_key(book_id: UUID | str, asset_id: UUID | str, extension: str) -> str:
    return f"books/{book_id}/photos/{asset_id}.{extension}"


# Thumbnails are WebP (storywink.imaging.thumbnails); older books keep the JPEG keys their assets name.
THUMBNAIL_CONTENT_TYPE = "image/webp"


def thumbnail_key(book_id: UUID | str, asset_id: UUID | str) -> str:
    return f"books/{book_id}/thumbnails/{asset_id}.webp"


def illustration_key(book_id: UUID | str, page_id: UUID | str) -> str:
    return f"books/{book_id}/illustrations/{page_id}.png"


def pdf_key(book_id: UUID | str) -> str:
    return f"books/{book_id}/book.pdf"


@dataclass(frozen=True)
class GeneratedKey:
    kind: str  # "illustration" or "pdf"
    subject: str  # the page id of an illustration, the book id of a PDF


def parse_generated_key(key: str) -> GeneratedKey | None:
    """What the pipeline generated at ``key``, if it is an illustration or a book's PDF."""
    parts = key.split("/")
    if len(parts) == 4 and parts[0] == "books" and parts[2] == "illustrations":
        return GeneratedKey("illustration", parts[3].removesuffix(".png"))
    if len(parts) == 3 and parts[0] == "books" and parts[2] == "book.pdf":
        return GeneratedKey("pdf", parts[1])
    return None


# A user's exports live apart from their books, under a prefix of their own that the bucket expires.
EXPORTS_PREFIX = "exports/"


def export_prefix(user_id: str) -> str:
    return f"{EXPORTS_PREFIX}{user_id}/"


def export_key(user_id: str, export_id: UUID | str) -> str:
    return f"{EXPORTS_PREFIX}{user_id}/{export_id}.zip"
