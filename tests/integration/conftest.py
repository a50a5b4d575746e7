"""Helpers for API tests that need books with photos."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

BOOK = {"title": "Milo Goes to Space", "childName": "Milo", "artStyle": "watercolor", "theme": "space"}


@pytest.fixture
def new_book(client, auth) -> Callable[..., dict]:
    def make(user: str = "alice", **overrides) -> dict:
        response = client.post("/v1/books", json={**BOOK, **overrides}, headers=auth(user))
        assert response.status_code == 201, response.text
        return response.json()

    return make


@pytest.fixture
def upload(client, auth) -> Callable[..., list[str]]:
    """Ask for presigned uploads and PUT each file over real HTTP; returns the upload ids."""

    def put(book_id: str, files: list[bytes | Path], user: str = "alice", content_type: str = "image/jpeg") -> list[str]:
        blobs = [f.read_bytes() if isinstance(f, Path) else f for f in files]
        response = client.post(
            f"/v1/books/{book_id}/photos",
            json={"photos": [{"contentType": content_type, "size": len(b)} for b in blobs]},
            headers=auth(user),
        )
        assert response.status_code == 200, response.text
        tickets = response.json()["uploads"]
        for ticket, blob in zip(tickets, blobs, strict=True):
            assert httpx.put(ticket["url"], content=blob, headers=ticket["headers"]).status_code == 200
        return [ticket["uploadId"] for ticket in tickets]

    return put


@pytest.fixture
def book_with_photos(client, auth, new_book, upload, sample_photos) -> Callable[..., dict]:
    def make(count: int = 3, user: str = "alice", **overrides) -> dict:
        book = new_book(user, **overrides)
        ids = upload(book["id"], sample_photos[:count], user=user)
        response = client.post(f"/v1/books/{book['id']}/photos/confirm", json={"uploadIds": ids}, headers=auth(user))
        assert response.status_code == 201, response.text
        return response.json()

    return make


@pytest.fixture
def advance():
    """Move a book (and optionally its pages) through legal statuses with the status service, then commit."""
    from uuid import UUID

    from storywink.domain.enums import BookStatus, ModerationStatus
    from storywink.services.status import BookStatusService, StatusUpdate

    def move(session, book_id, *statuses: BookStatus, pages: dict | None = None) -> None:
        service = BookStatusService(session)
        for status in statuses:
            service.update_status(UUID(str(book_id)), StatusUpdate("test.move", book_status=status))
        for page_id, page_status in (pages or {}).items():
            service.update_status(
                UUID(str(book_id)),
                StatusUpdate("test.page", page_id=UUID(str(page_id)), page_status=ModerationStatus(page_status)),
            )
        session.commit()

    return move
