"""Loading a book with its pages, for the steps."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from storywink.db.tables import Book, Page


def load_book(session: Session, book_id: UUID, *, for_update: bool = False) -> Book:
    query = select(Book).where(Book.id == book_id).options(selectinload(Book.pages).selectinload(Page.asset))
    if for_update:
        # Re-read under the row lock: the state checked is the state written against.
        query = query.with_for_update(of=Book, key_share=True).execution_options(populate_existing=True)
    return session.execute(query).scalar_one()


def ordered_pages(book: Book) -> list[Page]:
    return sorted(book.pages, key=lambda page: page.page_number)
