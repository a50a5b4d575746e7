"""Pages: edit text, reorder, choose the cover."""

from __future__ import annotations

import uuid

from storywink.domain.enums import BookStatus


def test_page_text_can_be_edited_and_confirmed(client, auth, book_with_photos):
    book = book_with_photos(2)
    page_id = book["pages"][1]["id"]
    response = client.patch(
        f"/v1/books/{book['id']}/pages/{page_id}", json={"text": "Zoë waves at the stars.", "textConfirmed": True},
        headers=auth(),
    )
    assert response.status_code == 200, response.text
    assert response.json()["text"] == "Zoë waves at the stars." and response.json()["textConfirmed"] is True


def test_page_text_over_the_limit_is_rejected(client, auth, book_with_photos):
    book = book_with_photos(1)
    response = client.patch(
        f"/v1/books/{book['id']}/pages/{book['pages'][0]['id']}", json={"text": "a" * 2001}, headers=auth()
    )
    assert response.status_code == 422


def test_page_text_is_locked_while_illustrating(client, auth, book_with_photos, session, advance):
    book = book_with_photos(1)
    advance(session, book["id"], BookStatus.GENERATING, BookStatus.ILLUSTRATING)
    response = client.patch(
        f"/v1/books/{book['id']}/pages/{book['pages'][0]['id']}", json={"text": "late edit"}, headers=auth()
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "BOOK_STATE_CONFLICT"


def test_unknown_page_is_not_found(client, auth, book_with_photos):
    book = book_with_photos(1)
    response = client.patch(f"/v1/books/{book['id']}/pages/{uuid.uuid4()}", json={"text": "x"}, headers=auth())
    assert response.status_code == 404 and response.json()["error"]["code"] == "PAGE_NOT_FOUND"


def test_page_text_cannot_be_cleared_with_null(client, auth, book_with_photos):
    book = book_with_photos(1)
    page = f"/v1/books/{book['id']}/pages/{book['pages'][0]['id']}"
    for body in ({"text": None}, {"textConfirmed": None}, {"textConfirmed": 1}):
        response = client.patch(page, json=body, headers=auth())
        assert response.status_code == 422 and response.json()["error"]["code"] == "VALIDATION_FAILED", body


def test_a_patch_of_the_page_order_is_a_method_it_does_not_allow(client, auth):
    # /pages/order is its own resource, not a page whose id is "order".
    response = client.patch(f"/v1/books/{uuid.uuid4()}/pages/order", json={"text": "x"}, headers=auth())
    assert response.status_code == 405 and response.headers["Allow"] == "PUT"


def test_reorder_puts_pages_in_the_given_order(client, auth, book_with_photos):
    book = book_with_photos(3)
    wanted = [book["pages"][2]["id"], book["pages"][0]["id"], book["pages"][1]["id"]]
    response = client.put(f"/v1/books/{book['id']}/pages/order", json={"pageIds": wanted}, headers=auth())
    assert response.status_code == 200, response.text
    assert [p["id"] for p in response.json()["pages"]] == wanted
    assert [p["pageNumber"] for p in response.json()["pages"]] == [1, 2, 3]


def test_reorder_must_name_every_page_once(client, auth, book_with_photos):
    book = book_with_photos(3)
    ids = [p["id"] for p in book["pages"]]
    for bad in (ids[:2], ids + [ids[0]], ids[:2] + [str(uuid.uuid4())]):
        response = client.put(f"/v1/books/{book['id']}/pages/order", json={"pageIds": bad}, headers=auth())
        assert response.status_code == 422 and response.json()["error"]["code"] == "PAGE_SET_MISMATCH"


def test_cover_choice_makes_that_page_the_title_page(client, auth, book_with_photos):
    book = book_with_photos(3)
    chosen = book["pages"][2]
    response = client.put(f"/v1/books/{book['id']}/cover", json={"pageId": chosen["id"]}, headers=auth())
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["coverAssetId"] == chosen["photo"]["id"]
    assert [p["isTitlePage"] for p in updated["pages"]] == [False, False, True]
    library = client.get("/v1/books", headers=auth()).json()["items"][0]
    assert library["coverThumbnailUrl"] and library["pageLength"] == 3


def test_reorder_is_refused_once_generation_started(client, auth, book_with_photos, session, advance):
    book = book_with_photos(2)
    advance(session, book["id"], BookStatus.GENERATING)
    ids = [p["id"] for p in reversed(book["pages"])]
    assert client.put(f"/v1/books/{book['id']}/pages/order", json={"pageIds": ids}, headers=auth()).status_code == 409
