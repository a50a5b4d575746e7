"""Dead-letter queues can be inspected and redriven (admin API and `storywink dlq`), losing nothing."""

from __future__ import annotations

import json

import boto3
import pytest

from storywink.local.cli import main as storywink


@pytest.fixture
def sqs(stack):
    return boto3.client("sqs", endpoint_url=stack.moto_endpoint, region_name="us-east-1")


def depth(sqs, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_admin_lists_and_redrives_a_dead_letter_queue(api, stack, sqs, paused):
    queues = stack.resources.queue_urls
    body = json.dumps({"taskToken": "t-1", "bookId": "5b1d8f5e-0000-4000-8000-000000000001", "attempt": 1})
    admin = api("operator")
    admin.http.headers["Authorization"] = f"Bearer {stack.mint_token('operator', admin=True)}"
    with paused("DeadLetterHandlerFunction", "PdfWorkerFunction"):
        for _ in range(3):
            sqs.send_message(QueueUrl=queues["PdfDeadLetterQueue"], MessageBody=body)
        listing = {q["name"]: q for q in admin("GET", "/v1/admin/dead-letters")["queues"]}
        assert listing["pdf"]["depth"] == 3
        assert {m["bookId"] for m in listing["pdf"]["messages"]} == {"5b1d8f5e-0000-4000-8000-000000000001"}
        moved = admin("POST", "/v1/admin/dead-letters/pdf/redrive")
        assert moved["moved"] == 3 and moved["method"] == "receive-send-delete"
        assert depth(sqs, queues["PdfDeadLetterQueue"]) == 0
        received = sqs.receive_message(QueueUrl=queues["PdfQueue"], MaxNumberOfMessages=10)["Messages"]
        assert [m["Body"] for m in received] == [body] * 3
        for message in received:
            sqs.delete_message(QueueUrl=queues["PdfQueue"], ReceiptHandle=message["ReceiptHandle"])


def test_dead_letter_routes_are_for_admins_only(api):
    error = api("parent")("GET", "/v1/admin/dead-letters", 403)["error"]
    assert error["code"] == "ADMIN_ONLY"


def test_redriving_an_unknown_queue_is_not_found(api, stack):
    admin = api("operator")
    admin.http.headers["Authorization"] = f"Bearer {stack.mint_token('operator', admin=True)}"
    assert admin("POST", "/v1/admin/dead-letters/nope/redrive", 404)["error"]["code"] == "DLQ_NOT_FOUND"


def test_the_cli_lists_and_redrives_the_same_queues(stack, sqs, monkeypatch, capsys, paused):
    monkeypatch.setattr("storywink.local.stack.running_stack_info", lambda: None)  # use DEAD_LETTER_QUEUES
    queues = stack.resources.queue_urls
    with paused("DeadLetterHandlerFunction", "StoryWorkerFunction"):
        sqs.send_message(QueueUrl=queues["StoryDeadLetterQueue"], MessageBody="{}")
        assert storywink(["dlq", "list", "story"]) == 0
        assert json.loads(capsys.readouterr().out)[0]["depth"] == 1
        assert storywink(["dlq", "redrive", "story"]) == 0
        assert json.loads(capsys.readouterr().out)["moved"] == 1
        (message,) = sqs.receive_message(QueueUrl=queues["StoryQueue"])["Messages"]
        sqs.delete_message(QueueUrl=queues["StoryQueue"], ReceiptHandle=message["ReceiptHandle"])
