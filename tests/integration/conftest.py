"""Helpers for API tests that need books with photos, and for the privacy jobs (their queues, the connections
table from the template's own properties, running a queue through its function's handler)."""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import boto3
import httpx
import pytest

from storywink.local.lambda_runtime import LocalLambdaContext
from storywink.local.sqs_poller import sqs_event
from storywink.local.template import load_template, repo_root

REGION = "us-east-1"
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


# ---------------------------------------------------------------- privacy jobs


@dataclass(frozen=True)
class Queues:
    deletion: str
    export: str


def create_queues() -> Queues:
    sqs = boto3.client("sqs", region_name=REGION)
    suffix = uuid.uuid4().hex[:8]
    return Queues(
        sqs.create_queue(QueueName=f"account-deletion-{suffix}")["QueueUrl"],
        sqs.create_queue(QueueName=f"export-{suffix}")["QueueUrl"],
    )


def create_connections_table() -> str:
    properties = load_template(repo_root() / "template.yaml")["Resources"]["ConnectionsTable"]["Properties"]
    name = f"connections-{uuid.uuid4().hex[:8]}"
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=name,
        KeySchema=properties["KeySchema"],
        AttributeDefinitions=properties["AttributeDefinitions"],
        GlobalSecondaryIndexes=properties["GlobalSecondaryIndexes"],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def run_queue(queue_url: str, module: str, function: str, *, limit: int = 100) -> int:
    """Hand each message of the queue to the function's handler as Lambda's poller would (one record per
    event), deleting those it reports done, until the queue is empty; returns how many were handled."""
    sqs = boto3.client("sqs", region_name=REGION)
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    handler = importlib.import_module(module).handler
    handled = 0
    for _ in range(limit):
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=0, AttributeNames=["All"], MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return handled
        try:
            response = handler(sqs_event(messages, arn, REGION), LocalLambdaContext(function))
        except Exception:  # noqa: BLE001, S112 - a whole-batch failure: the message comes back, as from Lambda
            continue
        handled += 1
        failed = {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
        for message in messages:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    raise AssertionError(f"{queue_url} still had messages after {limit}")


def queue_depth(queue_url: str) -> int:
    attributes = boto3.client("sqs", region_name=REGION).get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


@dataclass(frozen=True)
class PrivacyJobs:
    queues: Queues

    @property
    def deletion(self) -> str:
        return self.queues.deletion

    def run_deletions(self) -> int:
        return run_queue(self.queues.deletion, "account_deletion_worker", "AccountDeletionWorkerFunction")

    def run_exports(self) -> int:
        return run_queue(self.queues.export, "export_worker", "ExportWorkerFunction")


@pytest.fixture
def privacy(reconfigure, aws_environment) -> PrivacyJobs:
    """The API and the workers given the jobs' queues and a connections table (moto's management API for
    closing connections); deletions do not wait for late writes, crashed records come straight back."""
    queues = create_queues()
    reconfigure(
        ACCOUNT_DELETION_QUEUE_URL=queues.deletion,
        EXPORT_QUEUE_URL=queues.export,
        ACCOUNT_DELETION_SETTLE_SECONDS=0,
        CRASH_REDELIVERY_SECONDS=0,
        CONNECTIONS_TABLE=create_connections_table(),
        WEBSOCKET_ENDPOINT=aws_environment,
    )
    return PrivacyJobs(queues)
