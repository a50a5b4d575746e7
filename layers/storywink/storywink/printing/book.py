"""What a printed book holds: its cover and its pages (the PDF layout is in storywink.printing.book_pdf)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PrintPage:
    text: str | None
    image: bytes | None  # PNG or JPEG bytes


@dataclass(frozen=True)
class PrintBook:
    title: str
    child_name: str
    cover_image: bytes | None
    pages: list[PrintPage]
