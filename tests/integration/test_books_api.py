"""/v1/books: create, library, read, edit, delete."""

from __future__ import annotations

import uuid

import pytest

BOOK = {"title": "Milo Goes to Space", "childName": "Milo", "artStyle": "watercolor", "theme": "space", "tone": "gentle"}


def create(client, headers, **overrides):
    response = client.post("/v1/books", json={**BOOK, **overrides}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert error["requestId"]
    return error


def test_create_book_returns_a_draft_with_its_details(client, auth):
    book = create(client, auth())
    assert book["status"] == "DRAFT"
    assert book["title"] == "Milo Goes to Space"
    assert book["childName"] == "Milo"
    assert book["artStyle"] == "watercolor"
    assert book["pageLength"] == 0
    assert book["pages"] == []
    assert book["autoIllustrate"] is True


def test_first_request_of_a_new_subject_creates_the_user(client, auth, session):
    from storywink.db.tables import User

    create(client, auth("newcomer", plan="premium", email="n@example.test"))
    user = session.get(User, "newcomer")
    assert user is not None and user.plan.value == "premium" and user.email == "n@example.test"


@pytest.mark.parametrize(
    "body, field",
    [
        ({**BOOK, "title": ""}, "body.title"),
        ({**BOOK, "title": "x" * 121}, "body.title"),
        ({**BOOK, "childName": "y" * 61}, "body.childName"),
        ({**BOOK, "artStyle": "oil-painting"}, "body.artStyle"),
        ({**BOOK, "theme": "z" * 501}, "body.theme"),
        ({**BOOK, "pageLength": 30}, "body.pageLength"),
        ({"title": "No child"}, "body.childName"),
    ],
)
def test_invalid_book_is_rejected_with_the_error_shape(client, auth, body, field):
    error = assert_error(client.post("/v1/books", json=body, headers=auth()), 422, "VALIDATION_FAILED")
    assert field in [detail["field"] for detail in error["details"]]


def test_malformed_json_is_a_validation_error(client, auth):
    response = client.post("/v1/books", content=b"{not json", headers={**auth(), "Content-Type": "application/json"})
    assert_error(response, 422, "VALIDATION_FAILED")


def test_a_body_that_is_not_utf8_is_a_validation_error(client, auth):
    response = client.post("/v1/books", content=b'{"title": "\xff"}', headers={**auth(), "Content-Type": "application/json"})
    error = assert_error(response, 422, "VALIDATION_FAILED")
    assert error["details"] == [{"field": "body", "message": "The body is not JSON in UTF-8.", "type": "json_invalid"}]


@pytest.mark.parametrize("value", [0, 1, "true"])
def test_a_boolean_is_a_json_boolean(client, auth, value):
    error = assert_error(client.post("/v1/books", json={**BOOK, "autoIllustrate": value}, headers=auth()), 422, "VALIDATION_FAILED")
    assert [detail["field"] for detail in error["details"]] == ["body.autoIllustrate"]


def test_a_method_the_path_does_not_serve_lists_every_method_it_does(client, auth):
    response = client.request("OPTIONS", "/v1/books", headers=auth())
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["Allow"] == "GET, POST"
    book = create(client, auth())
    assert client.put(f"/v1/books/{book['id']}", json=BOOK, headers=auth()).headers["Allow"] == "DELETE, GET, PATCH"


def test_get_book_returns_it(client, auth):
    book = create(client, auth())
    response = client.get(f"/v1/books/{book['id']}", headers=auth())
    assert response.status_code == 200
    assert response.json()["id"] == book["id"]


def test_unknown_book_is_not_found(client, auth):
    assert_error(client.get(f"/v1/books/{uuid.uuid4()}", headers=auth()), 404, "BOOK_NOT_FOUND")


def test_malformed_book_id_is_a_validation_error(client, auth):
    assert_error(client.get("/v1/books/not-a-uuid", headers=auth()), 422, "VALIDATION_FAILED")


def test_patch_changes_only_the_given_details(client, auth):
    book = create(client, auth())
    response = client.patch(f"/v1/books/{book['id']}", json={"tone": "funny", "artStyle": "cartoon"}, headers=auth())
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["tone"] == "funny" and updated["artStyle"] == "cartoon" and updated["title"] == book["title"]


def test_patch_with_nothing_to_change_is_a_bad_request(client, auth):
    book = create(client, auth())
    assert_error(client.patch(f"/v1/books/{book['id']}", json={}, headers=auth()), 400, "EMPTY_UPDATE")


@pytest.mark.parametrize("field", ["title", "childName", "artStyle", "autoIllustrate"])
def test_patch_cannot_clear_a_detail_a_book_must_have(client, auth, field):
    book = create(client, auth())
    error = assert_error(client.patch(f"/v1/books/{book['id']}", json={field: None}, headers=auth()), 422, "VALIDATION_FAILED")
    assert [detail["field"] for detail in error["details"]] == [f"body.{field}"]


def test_patch_clears_an_optional_detail_with_null(client, auth):
    book = create(client, auth())
    response = client.patch(f"/v1/books/{book['id']}", json={"theme": None}, headers=auth())
    assert response.status_code == 200, response.text
    assert response.json()["theme"] is None and response.json()["tone"] == "gentle"


def test_patch_is_refused_while_generating(client, auth, session, advance):
    from storywink.domain.enums import BookStatus

    book = create(client, auth())
    advance(session, book["id"], BookStatus.GENERATING)
    error = assert_error(
        client.patch(f"/v1/books/{book['id']}", json={"title": "New"}, headers=auth()), 409, "BOOK_STATE_CONFLICT"
    )
    assert error["details"]["status"] == "GENERATING"


def test_delete_removes_the_book(client, auth):
    book = create(client, auth())
    assert client.delete(f"/v1/books/{book['id']}", headers=auth()).status_code == 204
    assert_error(client.get(f"/v1/books/{book['id']}", headers=auth()), 404, "BOOK_NOT_FOUND")


def test_library_lists_only_my_books_newest_first(client, auth):
    first = create(client, auth(), title="First")
    second = create(client, auth(), title="Second")
    create(client, auth("bob"), title="Bob's")
    items = client.get("/v1/books", headers=auth()).json()["items"]
    assert [item["id"] for item in items] == [second["id"], first["id"]]
    assert items[0]["pageLength"] == 0 and items[0]["coverThumbnailUrl"] is None


def test_library_filters_by_status(client, auth, session, advance):
    from storywink.domain.enums import BookStatus as S

    done = create(client, auth(), title="Done")
    create(client, auth(), title="Draft")
    advance(session, done["id"], S.GENERATING, S.ILLUSTRATING, S.COMPLETED)
    items = client.get("/v1/books", params={"status": "COMPLETED"}, headers=auth()).json()["items"]
    assert [item["id"] for item in items] == [done["id"]]


@pytest.mark.parametrize("total, limit", [(0, 2), (1, 1), (4, 2), (5, 2), (3, 100)])
def test_library_pages_visit_every_book_once(client, auth, total, limit):
    made = [create(client, auth(), title=f"Book {n}")["id"] for n in range(total)]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        body = client.get("/v1/books", params=params, headers=auth()).json()
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["nextCursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made))
    assert pages == max(1, -(-total // limit))


@pytest.mark.parametrize(
    "params, code",
    [
        ({"limit": 0}, "VALIDATION_FAILED"),
        ({"limit": 101}, "VALIDATION_FAILED"),
        ({"status": "done"}, "VALIDATION_FAILED"),
        ({"cursor": "bm90LWpzb24"}, "INVALID_CURSOR"),
    ],
)
def test_library_rejects_bad_paging_parameters(client, auth, params, code):
    assert_error(client.get("/v1/books", params=params, headers=auth()), 422, code)
