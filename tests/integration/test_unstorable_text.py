"""Text PostgreSQL cannot store (NUL, a lone UTF-16 surrogate) is a 422 in the one error shape on every
route that takes text, and nothing is saved; before, it reached the database and came back as a 500."""

from __future__ import annotations

import json
import uuid

import pytest

BOOK = {"title": "Milo Goes to Space", "childName": "Milo", "theme": "space"}
BOOK_TEXT_FIELDS = ["title", "childName", "tone", "theme", "keyCharacters", "specialObjects", "excitementElement"]
UNSTORABLE = {"nul": "Milo\u0000", "lone surrogate": "Milo \ud800"}


def send(client, method: str, path: str, body: dict, headers: dict):
    # json.dumps writes both as \u escapes, as a browser's JSON.stringify would.
    return client.request(method, path, content=json.dumps(body), headers={**headers, "Content-Type": "application/json"})


def assert_rejected(response, field: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_FAILED" and error["requestId"] == response.headers["X-Request-Id"]
    assert any(detail["field"].endswith(field) for detail in error["details"]), error["details"]


@pytest.mark.parametrize("kind", sorted(UNSTORABLE))
@pytest.mark.parametrize("field", BOOK_TEXT_FIELDS)
def test_creating_a_book_with_unstorable_text_is_a_422_and_saves_nothing(client, auth, field, kind):
    response = send(client, "POST", "/v1/books", {**BOOK, field: UNSTORABLE[kind]}, auth("alice"))
    assert_rejected(response, field)
    assert client.get("/v1/books", headers=auth("alice")).json()["items"] == []


@pytest.mark.parametrize("kind", sorted(UNSTORABLE))
@pytest.mark.parametrize("field", BOOK_TEXT_FIELDS)
def test_changing_a_book_to_unstorable_text_is_a_422_and_changes_nothing(client, auth, new_book, field, kind):
    book = new_book()
    response = send(client, "PATCH", f"/v1/books/{book['id']}", {field: UNSTORABLE[kind]}, auth("alice"))
    assert_rejected(response, field)
    assert client.get(f"/v1/books/{book['id']}", headers=auth("alice")).json()["title"] == BOOK["title"]


@pytest.mark.parametrize("kind", sorted(UNSTORABLE))
def test_a_page_text_with_unstorable_text_is_a_422(client, auth, kind):
    response = send(client, "PATCH", f"/v1/books/{uuid.uuid4()}/pages/{uuid.uuid4()}", {"text": UNSTORABLE[kind]}, auth("alice"))
    assert_rejected(response, "text")


def test_paired_surrogates_and_other_unicode_are_kept(client, auth):
    title = "Milo 🚀 さくら Łukasz"  # the rocket is a surrogate pair in JSON's \u escapes
    response = send(client, "POST", "/v1/books", {**BOOK, "title": title}, auth("alice"))
    assert response.status_code == 201, response.text
    assert response.json()["title"] == title
