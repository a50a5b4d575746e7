"""Admin batches on the embedded PostgreSQL and moto: admins only, a bounded selection, and the batch worker
starting a bounded number of books per run through the pipeline's own starts, then settling each outcome."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest

from storywink.domain.enums import BookStatus
from storywink.local.lambda_runtime import LocalLambdaContext, load_handler
from storywink.local.template import repo_root

DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
B = BookStatus


@pytest.fixture
def pipeline(reconfigure):
    sfn = boto3.client("stepfunctions")
    arn = sfn.create_state_machine(
        name=f"books-{uuid.uuid4().hex[:8]}", definition=DEFINITION, roleArn="arn:aws:iam::123456789012:role/sfn"
    )["stateMachineArn"]
    reconfigure(STATE_MACHINE_ARN=arn, BATCH_BOOKS_PER_MINUTE=2, BATCH_MAX_BOOKS=3)
    return lambda: sfn.list_executions(stateMachineArn=arn)["executions"]


@pytest.fixture
def worker():
    handler = load_handler(repo_root() / "functions", "batch_worker.handler")
    return lambda: handler({}, LocalLambdaContext("BatchWorkerFunction"))


@pytest.fixture
def admin(auth):
    return auth("operator", admin=True)


def progress(client, admin, batch_id: str) -> dict:
    response = client.get(f"/v1/admin/batches/{batch_id}", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


def counts(state: dict) -> tuple[int, int, int, int]:
    return state["queued"], state["running"], state["done"], state["failed"]


@pytest.mark.parametrize(("method", "path"), [("post", "/v1/admin/batches"), ("get", f"/v1/admin/batches/{uuid.uuid4()}")])
def test_a_parent_may_not_start_or_read_a_batch(client, auth, method, path):
    body = {"json": {"operation": "rerender-pdf", "bookIds": [str(uuid.uuid4())]}} if method == "post" else {}

    response = getattr(client, method)(path, headers=auth("alice"), **body)

    assert response.status_code == 403 and response.json()["error"]["code"] == "ADMIN_ONLY"


@pytest.mark.parametrize(
    "body",
    [
        {"operation": "rerender-pdf"},
        {"operation": "rerender-pdf", "bookIds": [str(uuid.uuid4())], "filter": {"status": "COMPLETED"}},
        {"operation": "paint-it-blue", "bookIds": [str(uuid.uuid4())]},
        {"operation": "regenerate", "bookIds": []},
    ],
    ids=["no-selection", "both-selections", "unknown-operation", "no-books"],
)
def test_a_batch_request_that_is_not_valid_is_422(client, admin, body):
    response = client.post("/v1/admin/batches", json=body, headers=admin)

    assert response.status_code == 422 and response.json()["error"]["code"] == "VALIDATION_FAILED"


def test_a_filter_selects_at_most_the_bound(client, admin, book_with_photos, pipeline):
    for _ in range(4):
        book_with_photos(1, user="bob")

    too_many = client.post("/v1/admin/batches", json={"operation": "regenerate", "filter": {"userId": "bob"}}, headers=admin)
    none = client.post("/v1/admin/batches", json={"operation": "regenerate", "filter": {"userId": "nobody"}}, headers=admin)

    # What a filter finds is the data's state now: 409, not a fault of the request.
    assert too_many.status_code == 409 and too_many.json()["error"]["code"] == "BATCH_TOO_LARGE"
    assert none.status_code == 409 and none.json()["error"]["code"] == "BATCH_EMPTY"


def test_a_null_selection_is_refused_like_any_other_wrong_type(client, admin):
    for body in (
        {"operation": "regenerate", "bookIds": None, "filter": {"userId": "carol"}},
        {"operation": "regenerate", "bookIds": [str(uuid.uuid4())], "filter": None},
    ):
        response = client.post("/v1/admin/batches", json=body, headers=admin)
        assert response.status_code == 422 and response.json()["error"]["code"] == "VALIDATION_FAILED", body


def test_the_worker_starts_a_bounded_number_of_books_a_run_and_settles_each_outcome(
    client, admin, auth, book_with_photos, pipeline, worker, session, advance
):
    books = [book_with_photos(1) for _ in range(3)]
    missing = str(uuid.uuid4())
    body = {"operation": "regenerate", "filter": {"userId": "alice", "status": "DRAFT"}}
    batch = client.post("/v1/admin/batches", json=body, headers=admin)
    assert batch.status_code == 202 and batch.json()["total"] == 3
    ghost = client.post("/v1/admin/batches", json={"operation": "regenerate", "bookIds": [missing]}, headers=admin).json()
    batch_id = batch.json()["id"]
    assert counts(progress(client, admin, batch_id)) == (3, 0, 0, 0) and pipeline() == []  # nothing at once

    worker()

    assert counts(progress(client, admin, batch_id)) == (1, 2, 0, 0)
    assert len(pipeline()) == 2
    first, second, third = books
    advance(session, first["id"], B.ILLUSTRATING, B.COMPLETED)
    advance(session, second["id"], B.FAILED)

    worker()  # settles the two, starts the third and then the other batch's (missing) book

    state = progress(client, admin, batch_id)
    assert counts(state) == (0, 1, 1, 1)
    outcomes = {item["bookId"]: (item["status"], item["outcomeCode"]) for item in state["books"]}
    assert outcomes == {first["id"]: ("DONE", "COMPLETED"), second["id"]: ("FAILED", "FAILED"), third["id"]: ("RUNNING", None)}
    assert len(pipeline()) == 3 and state["finishedAt"] is None
    ghost_state = progress(client, admin, ghost["id"])
    assert ghost_state["books"][0]["outcomeCode"] == "BOOK_NOT_FOUND" and ghost_state["finishedAt"] is not None
    # An operator's batch is not the parent's generation: nothing was charged to the owner.
    assert client.get("/v1/me/usage", headers=auth()).json()["generations"]["used"] == 0


def test_a_book_the_operation_does_not_apply_to_fails_with_the_reason_and_starts_nothing(
    client, admin, book_with_photos, pipeline, worker
):
    draft = book_with_photos(1)
    batch = client.post("/v1/admin/batches", json={"operation": "rerender-pdf", "bookIds": [draft["id"]]}, headers=admin).json()

    worker()

    (item,) = progress(client, admin, batch["id"])["books"]
    assert item["status"] == "FAILED" and item["outcomeCode"] == "BOOK_STATE_CONFLICT"
    assert pipeline() == []


def test_an_unknown_batch_is_404(client, admin):
    response = client.get(f"/v1/admin/batches/{uuid.uuid4()}", headers=admin)

    assert response.status_code == 404 and response.json()["error"]["code"] == "BATCH_NOT_FOUND"
