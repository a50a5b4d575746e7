"""Real answers keep the document's word: for a sample of errors (and successes) produced through the API,
the status is documented for that operation and the body validates against the documented schema."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import jsonschema
import pytest

from storywink.domain.enums import BookStatus
from storywink.services import limits

BOOK = {"title": "Milo Goes to Space", "childName": "Milo"}


@pytest.fixture
def conforms(client):
    """conforms(response, "GET /v1/books/{book_id}"): the status is documented there and the body (and, for a
    429, the Retry-After header) is what the document says. Returns the body."""
    document = client.app.openapi()

    def check(response, operation: str) -> dict | None:
        method, path = operation.split()
        responses = document["paths"][path][method.lower()]["responses"]
        status = str(response.status_code)
        assert status in responses, f"{operation} answered {status}, which its document does not list: {response.text}"
        documented = responses[status]
        for header in documented.get("headers", {}):
            assert header in response.headers, f"{operation} {status} lacks {header}"
        if "content" not in documented:
            return None
        schema = documented["content"]["application/json"]["schema"]
        body = response.json()
        jsonschema.validate(body, {**schema, "components": document["components"]})
        if response.status_code >= 400:
            assert body["error"]["requestId"] == response.headers["X-Request-Id"]
        return body

    return check


def test_unauthenticated_and_unknown_answers_are_documented(client, auth, conforms):
    assert conforms(client.get("/v1/books"), "GET /v1/books")["error"]["code"] == "TOKEN_MISSING"
    missing = client.get(f"/v1/books/{uuid.uuid4()}", headers=auth())
    assert conforms(missing, "GET /v1/books/{book_id}")["error"]["code"] == "BOOK_NOT_FOUND"
    not_a_uuid = client.get("/v1/books/not-a-uuid/status", headers=auth())
    issues = conforms(not_a_uuid, "GET /v1/books/{book_id}/status")["error"]["details"]
    assert issues and set(issues[0]) == {"field", "message", "type"}
    assert conforms(client.get("/v1/admin/queues", headers=auth()), "GET /v1/admin/queues")["error"]["code"] == "ADMIN_ONLY"


def test_bad_bodies_are_documented(client, auth, conforms):
    invalid = conforms(client.post("/v1/books", json={"title": "   ", "childName": "Milo"}, headers=auth()), "POST /v1/books")
    assert invalid["error"]["code"] == "VALIDATION_FAILED" and invalid["error"]["details"][0]["field"] == "body.title"
    book = conforms(client.post("/v1/books", json=BOOK, headers=auth()), "POST /v1/books")
    empty = client.patch(f"/v1/books/{book['id']}", json={}, headers=auth())
    assert conforms(empty, "PATCH /v1/books/{book_id}")["error"]["code"] == "EMPTY_UPDATE"
    key = client.post(f"/v1/books/{book['id']}/generate", headers={**auth(), "Idempotency-Key": "k" * 129})
    assert conforms(key, "POST /v1/books/{book_id}/generate")["error"]["code"] == "INVALID_IDEMPOTENCY_KEY"


def test_photo_refusals_keep_their_statuses_and_are_documented(client, auth, conforms):
    book = client.post("/v1/books", json=BOOK, headers=auth()).json()
    path, operation = f"/v1/books/{book['id']}/photos", "POST /v1/books/{book_id}/photos"
    gif = client.post(path, json={"photos": [{"contentType": "image/gif", "size": 10}]}, headers=auth())
    assert gif.status_code == 415 and conforms(gif, operation)["error"]["code"] == "UNSUPPORTED_IMAGE_TYPE"
    big = client.post(path, json={"photos": [{"contentType": "image/jpeg", "size": 16 * 1024 * 1024}]}, headers=auth())
    assert big.status_code == 413 and conforms(big, operation)["error"]["code"] == "PHOTO_TOO_LARGE"
    many = client.post(path, json={"photos": [{"contentType": "image/jpeg", "size": 10}] * 21}, headers=auth())
    assert many.status_code == 422 and conforms(many, operation)["error"]["code"] == "PAGE_LIMIT_EXCEEDED"


def test_a_state_conflict_is_documented(client, auth, conforms, session, advance):
    book = client.post("/v1/books", json=BOOK, headers=auth()).json()
    advance(session, book["id"], BookStatus.GENERATING)
    conflict = client.delete(f"/v1/books/{book['id']}", headers=auth())
    assert conforms(conflict, "DELETE /v1/books/{book_id}")["error"]["code"] == "BOOK_STATE_CONFLICT"


def test_a_rate_limit_is_documented_with_its_retry_after_and_quota_details(
    client, auth, conforms, reconfigure, monkeypatch
):
    monkeypatch.setattr(limits, "utcnow", lambda: datetime(2030, 1, 1, 12, 0, 30, tzinfo=UTC))
    reconfigure(RATE_LIMIT_FREE_PER_MINUTE=1)
    assert client.post("/v1/books", json=BOOK, headers=auth()).status_code == 201
    refused = conforms(client.post("/v1/books", json=BOOK, headers=auth()), "POST /v1/books")
    assert refused["error"]["code"] == "RATE_LIMITED" and set(refused["error"]["details"]) == {
        "limit",
        "used",
        "resetsAt",
        "plan",
    }


def test_admin_answers_are_documented(client, auth, conforms):
    admin = auth("root", admin=True)
    unknown = client.post("/v1/admin/dead-letters/nowhere/redrive", headers=admin)
    assert unknown.status_code in (404, 503)  # no such queue, or none configured: both documented
    conforms(unknown, "POST /v1/admin/dead-letters/{queue}/redrive")
    conforms(client.get("/v1/admin/dead-letters", headers=admin), "GET /v1/admin/dead-letters")


def test_successes_match_their_schemas(client, auth, conforms):
    assert conforms(client.get("/healthz"), "GET /healthz") == {"status": "ok"}
    assert conforms(client.get("/readyz"), "GET /readyz") == {"status": "ok", "database": "ok"}
    book = conforms(client.post("/v1/books", json=BOOK, headers=auth()), "POST /v1/books")
    conforms(client.get(f"/v1/books/{book['id']}", headers=auth()), "GET /v1/books/{book_id}")
    conforms(client.get("/v1/books", headers=auth()), "GET /v1/books")
    conforms(client.get(f"/v1/books/{book['id']}/status", headers=auth()), "GET /v1/books/{book_id}/status")
    conforms(client.get("/v1/me/usage", headers=auth()), "GET /v1/me/usage")
    assert re.fullmatch(r"[0-9a-f-]{36}", book["id"])
