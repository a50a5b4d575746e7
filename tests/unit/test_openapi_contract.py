"""The OpenAPI document is the frontend's contract: every error it lists has the one error shape, every
operation lists its errors, ids are camelCase, and request schemas carry the server's own limits.
(Real answers are checked against it in tests/integration/test_openapi_responses.py.)"""

from __future__ import annotations

import json
import re

import pytest

from storywink.api.openapi import openapi_document
from storywink.config import Settings
from storywink.domain.rules import SUPPORTED_UPLOAD_TYPES
from storywink.local.template import load_template, repo_root
from storywink.services.dead_letter_queues import STEP_QUEUE_NAMES
from storywink.services.idempotency import KEY_MAX

DOCUMENT = json.loads(openapi_document())
ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorResponse"}
OPERATIONS = [
    (f"{method.upper()} {path}", operation)
    for path, operations in DOCUMENT["paths"].items()
    for method, operation in operations.items()
]


def _errors(operation: dict) -> dict[str, dict]:
    return {status: response for status, response in operation["responses"].items() if int(status) >= 400}


def _schemas(name: str) -> dict:
    return DOCUMENT["components"]["schemas"][name]


@pytest.mark.parametrize(("name", "operation"), OPERATIONS, ids=[name for name, _ in OPERATIONS])
def test_every_error_status_has_the_error_shape(name, operation):
    errors = _errors(operation)
    assert "500" in errors, f"{name} does not document 500"
    for status, response in errors.items():
        if name == "GET /readyz" and status == "503":
            assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Health"}
            continue
        assert response["content"]["application/json"]["schema"] == ERROR_SCHEMA, f"{name} {status}"
        assert response["description"]


@pytest.mark.parametrize(("name", "operation"), OPERATIONS, ids=[name for name, _ in OPERATIONS])
def test_every_v1_operation_documents_what_auth_answers(name, operation):
    if name.split()[1].startswith("/v1/"):
        assert {"401", "503"} <= set(_errors(operation)), name
        assert ("403" in operation["responses"]) == ("/v1/admin/" in name), name


def test_operation_ids_are_camel_case_and_tags_name_a_router():
    ids = [operation["operationId"] for _, operation in OPERATIONS]
    assert len(set(ids)) == len(ids)
    assert [i for i in ids if not re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)*", i)] == []
    assert {"createBook", "listBooks", "getBookStatus", "streamBookStatus", "redriveDeadLetters", "getHealth"} <= set(ids)
    tags = {tag["name"] for tag in DOCUMENT["tags"]}
    assert all(len(operation["tags"]) == 1 and operation["tags"][0] in tags for _, operation in OPERATIONS)


def test_a_429_says_when_to_try_again():
    limited = [(name, operation["responses"]["429"]) for name, operation in OPERATIONS if "429" in operation["responses"]]
    assert {"POST /v1/books", "GET /v1/books/{book_id}/status/stream"} <= {name for name, _ in limited}
    for name, response in limited:
        assert response["headers"]["Retry-After"]["schema"]["type"] == "integer", name


def test_every_user_operation_can_be_rate_limited_and_no_other():
    """Changes and reads under /v1 count against the caller's limits; admins' routes and health do not."""
    for name, operation in OPERATIONS:
        path = name.split()[1]
        # Deleting the account is not limited: its repeats ask nothing more of anyone (see the account router).
        limited = path.startswith("/v1/") and not path.startswith("/v1/admin/") and name != "DELETE /v1/me"
        assert ("429" in operation["responses"]) == limited, name


def test_fastapis_own_validation_shape_is_nowhere():
    text = json.dumps(DOCUMENT)
    assert "HTTPValidationError" not in text and '"detail"' not in text


def test_the_error_details_are_typed():
    body = _schemas("ErrorBody")
    assert set(body["required"]) == {"code", "message", "requestId"}
    kinds = body["properties"]["details"]["anyOf"]
    assert {"items": {"$ref": "#/components/schemas/ValidationIssue"}, "type": "array"} in kinds
    assert {"$ref": "#/components/schemas/QuotaDetails"} in kinds
    assert set(_schemas("QuotaDetails")["required"]) == {"limit", "used", "resetsAt", "plan"}


def test_request_schemas_carry_the_servers_limits():
    defaults = Settings.model_fields
    spec = _schemas("PhotoUploadSpec")["properties"]
    assert spec["contentType"]["enum"] == sorted(SUPPORTED_UPLOAD_TYPES)
    assert spec["size"]["maximum"] == defaults["max_photo_bytes"].default
    assert _schemas("PhotoUploadRequest")["properties"]["photos"]["maxItems"] == defaults["max_pages"].default == 20
    assert _schemas("BookUpdate")["minProperties"] == _schemas("PageUpdate")["minProperties"] == 1
    for field in ("title", "childName"):
        assert _schemas("BookCreate")["properties"][field]["pattern"] == r"\S"
    assert set(_schemas("BookCreate")["required"]) == {"title", "childName"}  # defaults are optional
    (key,) = [p for p in DOCUMENT["paths"]["/v1/books/{book_id}/generate"]["post"]["parameters"] if p["in"] == "header"]
    assert (key["schema"]["minLength"], key["schema"]["maxLength"]) == (1, KEY_MAX)
    (queue,) = DOCUMENT["paths"]["/v1/admin/dead-letters/{queue}/redrive"]["post"]["parameters"]
    assert queue["schema"]["enum"] == list(STEP_QUEUE_NAMES)


def test_the_queue_names_are_the_templates():
    template = load_template(repo_root() / "template.yaml")
    raw = template["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"]["DEAD_LETTER_QUEUES"]["Fn::Sub"]
    assert tuple(json.loads(re.sub(r"\$\{[^}]+\}", "x", raw))) == STEP_QUEUE_NAMES


def test_every_route_has_a_response_schema():
    for name, operation in OPERATIONS:
        # A 204 has no body; DELETE /v1/me answers 202 while the deletion runs and 204 once it is done.
        successes = [s for s in operation["responses"] if s.startswith("2") and s != "204"]
        assert len(successes) <= 1, name
        if not successes:
            continue
        content = operation["responses"][successes[0]]["content"]
        if name.endswith("/status/stream"):
            event = content["text/event-stream"]["schema"]
            assert event["properties"]["data"]["contentMediaType"] == "application/json"
            frames = event["properties"]["data"]["contentSchema"]["oneOf"]
            assert [f["$ref"].rsplit("/", 1)[1] for f in frames] == ["SnapshotFrame", "EventFrame"]
            assert {"SnapshotFrame", "EventFrame"} <= set(DOCUMENT["components"]["schemas"])
        else:
            assert content["application/json"]["schema"].get("$ref"), name


def test_every_reference_resolves():
    refs = set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', json.dumps(DOCUMENT)))
    assert refs - set(DOCUMENT["components"]["schemas"]) == set()


def test_servers_and_the_link_from_create_to_get():
    assert DOCUMENT["servers"][0]["url"] == "http://127.0.0.1:8000"
    assert any("{apiId}" in server["url"] for server in DOCUMENT["servers"])
    link = DOCUMENT["paths"]["/v1/books"]["post"]["responses"]["201"]["links"]["getBook"]
    assert link == {"operationId": "getBook", "parameters": {"book_id": "$response.body#/id"}}
