"""Every object of a book lives under books/{bookId}/, so deleting a book is deleting one prefix."""

from __future__ import annotations

from uuid import UUID


def book_prefix(book_id: UUID | str) -> str:
    return f"books/{book_id}/"


def upload_key(book_id: UUID | str, upload_id: str) -> str:
    return f"books/{book_id}/uploads/{upload_id}"


def photo_key(book_id: UUID | str, asset_id: UUID | str, extension: str) -> str:
    return f"books/{book_id}/photos/{asset_id}.{extension}"


def thumbnail_key(book_id: UUID | str, asset_id: UUID | str) -> str:
    return f"books/{book_id}/thumbnails/{asset_id}.jpg"


def illustration_key(book_id: UUID | str, page_id: UUID | str) -> str:
    return f"books/{book_id}/illustrations/{page_id}.png"


def pdf_key(book_id: UUID | str) -> str:
    return f"books/{book_id}/book.pdf"
