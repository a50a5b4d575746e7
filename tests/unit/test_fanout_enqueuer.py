"""Handing pushes to the fan-out queue: one FIFO message per book and change (or per new subscription),
never an exception."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError

from storywink.db.tables import BookEvent
from storywink.realtime import fanout
from storywink.realtime.fanout import FanoutEnqueuer, FanoutRequest

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/storywink-dev-push-fanout.fifo"


class RecordingSqs:
    def __init__(self, error: Exception | None = None) -> None:
        self.sent: list[dict] = []
        self.error = error

    def send_message(self, **request) -> dict:
        if self.error is not None:
            raise self.error
        self.sent.append(request)
        return {"MessageId": "m-1"}


def committed(seq: int) -> BookEvent:
    return BookEvent(book_id=uuid.UUID("5b1d8f5e-7c2a-4e59-9a0e-2f8f3a1c9d01"), seq=seq, type="page.illustrated", payload={})


def test_an_event_becomes_one_message_grouped_by_its_book_and_deduplicated_by_its_seq():
    sqs = RecordingSqs()
    FanoutEnqueuer(sqs, QUEUE)(committed(7), progress=None)  # type: ignore[arg-type]

    (message,) = sqs.sent
    book_id = "5b1d8f5e-7c2a-4e59-9a0e-2f8f3a1c9d01"
    assert message["QueueUrl"] == QUEUE
    assert message["MessageGroupId"] == book_id
    assert message["MessageDeduplicationId"] == f"{book_id}-7"
    assert json.loads(message["MessageBody"]) == {"bookId": book_id, "seq": 7}
    assert FanoutRequest.model_validate_json(message["MessageBody"]).seq == 7


def test_a_new_subscriptions_catch_up_is_queued_in_its_books_turn():
    sqs = RecordingSqs()
    book_id = uuid.UUID("5b1d8f5e-7c2a-4e59-9a0e-2f8f3a1c9d01")

    assert FanoutEnqueuer(sqs, QUEUE).catch_up(book_id, "KXz1bdfpIAMCLtg=", 4) is True

    (message,) = sqs.sent
    assert message["MessageGroupId"] == str(book_id)
    assert message["MessageDeduplicationId"] == f"{book_id}-4-KXz1bdfpIAMCLtg="  # never merged with the book's own push
    assert json.loads(message["MessageBody"]) == {"bookId": str(book_id), "seq": 4, "connectionId": "KXz1bdfpIAMCLtg="}


@pytest.mark.parametrize(
    "error",
    [
        ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "SendMessage"),
        ConnectTimeoutError(endpoint_url=QUEUE),
    ],
)
def test_a_failed_hand_off_is_logged_and_counted_and_never_raised(monkeypatch, error):
    counted: list[str] = []
    monkeypatch.setattr(fanout.metrics, "add_metric", lambda name, unit, value: counted.append(name))

    enqueuer = FanoutEnqueuer(RecordingSqs(error), QUEUE)
    enqueuer(committed(3), progress=None)  # type: ignore[arg-type]
    assert enqueuer.catch_up(uuid.uuid4(), "c-1", 0) is False  # subscribe then catches up by itself

    assert counted == ["PushFanoutEnqueueFailed"] * 2


def test_the_hand_off_gives_up_within_seconds():
    config = fanout.ENQUEUE_CLIENT_CONFIG
    assert config.connect_timeout + config.read_timeout <= 5
    assert config.retries["max_attempts"] <= 2
