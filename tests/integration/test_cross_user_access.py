"""Another user's book is a 404 on every route, indistinguishable from a missing one."""

from __future__ import annotations

import uuid

import pytest

ROUTES = [
    ("GET", "/v1/books/{book}", None),
    ("PATCH", "/v1/books/{book}", {"title": "Mine now"}),
    ("DELETE", "/v1/books/{book}", None),
    ("POST", "/v1/books/{book}/photos", {"photos": [{"contentType": "image/jpeg", "size": 100}]}),
    ("POST", "/v1/books/{book}/photos/confirm", {"uploadIds": ["0" * 32]}),
    ("PATCH", "/v1/books/{book}/pages/{page}", {"text": "hello"}),
    ("PUT", "/v1/books/{book}/pages/order", {"pageIds": ["{page}"]}),
    ("PUT", "/v1/books/{book}/cover", {"pageId": "{page}"}),
    ("GET", "/v1/books/{book}/status", None),
]


def fill(value, book: str, page: str):
    if isinstance(value, str):
        return value.format(book=book, page=page)
    if isinstance(value, list):
        return [fill(v, book, page) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, book, page) for k, v in value.items()}
    return value


@pytest.mark.parametrize("method, path, body", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_other_users_book_is_not_found(client, auth, book_with_photos, method, path, body):
    book = book_with_photos(1, user="alice")
    page = book["pages"][0]["id"]
    as_bob = client.request(method, fill(path, book["id"], page), json=fill(body, book["id"], page), headers=auth("bob"))
    missing = client.request(
        method, fill(path, str(uuid.uuid4()), page), json=fill(body, book["id"], page), headers=auth("bob")
    )
    assert as_bob.status_code == 404, as_bob.text
    assert as_bob.json()["error"]["code"] == missing.json()["error"]["code"] == "BOOK_NOT_FOUND"
    assert as_bob.json()["error"]["message"] == missing.json()["error"]["message"]
    # And alice's book is untouched.
    still = client.get(f"/v1/books/{book['id']}", headers=auth("alice")).json()
    assert still["title"] == book["title"] and still["pageLength"] == 1


def test_library_never_shows_another_users_books(client, auth, book_with_photos):
    book_with_photos(1, user="alice")
    assert client.get("/v1/books", headers=auth("bob")).json()["items"] == []
