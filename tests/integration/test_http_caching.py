"""Conditional GETs: each read route sends a strong ETag and Cache-Control, and answers 304 to a
matching If-None-Match; a change to the book changes its ETag."""

from __future__ import annotations

import pytest

from storywink.api.conditional import CACHE_CONTROL, entity_tag


def _routes(book_id: str) -> list[str]:
    return ["/v1/books", f"/v1/books/{book_id}", f"/v1/books/{book_id}/status"]


@pytest.mark.parametrize("route", [0, 1, 2], ids=["library", "book", "status"])
def test_a_matching_if_none_match_gets_a_304_without_a_body(client, auth, book_with_photos, route):
    path = _routes(book_with_photos(2)["id"])[route]
    first = client.get(path, headers=auth())
    etag = first.headers["ETag"]
    assert first.status_code == 200 and first.headers["Cache-Control"] == CACHE_CONTROL
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")

    again = client.get(path, headers={**auth(), "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag and again.headers["Cache-Control"] == CACHE_CONTROL
    # A list of tags, a weak form of ours and `*` match too (RFC 9110); another tag does not.
    for header in (f'"0123", {etag}', f"W/{etag}", "*"):
        assert client.get(path, headers={**auth(), "If-None-Match": header}).status_code == 304
    other = client.get(path, headers={**auth(), "If-None-Match": '"0123"'})
    assert other.status_code == 200 and other.json() == first.json() and other.headers["ETag"] == etag


def test_a_changed_book_changes_its_etag_and_the_old_one_no_longer_matches(client, auth, book_with_photos):
    book_id = book_with_photos(2)["id"]
    before = {path: client.get(path, headers=auth()).headers["ETag"] for path in _routes(book_id)[:2]}

    assert client.patch(f"/v1/books/{book_id}", json={"title": "A New Title"}, headers=auth()).status_code == 200

    for path, etag in before.items():
        after = client.get(path, headers={**auth(), "If-None-Match": etag})
        assert after.status_code == 200 and after.headers["ETag"] != etag, path
        assert "A New Title" in after.text


def test_the_etag_is_the_body_s_own(client, auth, book_with_photos):
    """Two users' identical-looking drafts still differ (ids), and one body always gives one tag."""
    book_id = book_with_photos(1)["id"]
    response = client.get(f"/v1/books/{book_id}/status", headers=auth())

    assert response.headers["ETag"] == entity_tag(response.content)
