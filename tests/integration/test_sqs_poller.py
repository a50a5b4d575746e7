"""The local event source mapping (storywink.local.sqs_poller) against moto's SQS: Lambda's concurrency
and batching, and a stop that starts nothing new."""

from __future__ import annotations

import threading
import time
import uuid

import boto3
import pytest

from storywink.local.runtime import FastRuntime
from storywink.local.sqs_poller import EventSourceMapping, SqsPoller

REGION = "eu-west-1"


@pytest.fixture
def sqs(aws_environment):
    return boto3.client("sqs", endpoint_url=aws_environment, region_name=REGION)


@pytest.fixture
def queue(sqs):
    url = sqs.create_queue(QueueName=f"poller-{uuid.uuid4().hex[:8]}", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    yield url, arn
    sqs.delete_queue(QueueUrl=url)


def mapping(queue, batch_size: int) -> EventSourceMapping:
    url, arn = queue
    return EventSourceMapping("Worker", "worker.handler", "WorkQueue", url, arn, batch_size, True, 3, 30, 256)


class Recorder:
    def __init__(self, hold_seconds: float = 0.2) -> None:
        self.hold_seconds = hold_seconds
        self.bodies: list[str] = []
        self.batch_sizes: list[int] = []
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def __call__(self, event, context):
        with self._lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            self.batch_sizes.append(len(event["Records"]))
        time.sleep(self.hold_seconds)
        with self._lock:
            self.running -= 1
            self.bodies.extend(record["body"] for record in event["Records"])
        return {"batchItemFailures": []}


def wait_for(condition, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def send(sqs, url: str, count: int) -> list[str]:
    bodies = [f"m{i}" for i in range(count)]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    return bodies


def visible(sqs, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_no_more_invocations_at_once_than_environments_and_every_message_handled_once(sqs, queue):
    handler = Recorder()
    poller = SqsPoller(mapping(queue, batch_size=1), handler, sqs, REGION, workers=3, runtime=FastRuntime())
    bodies = send(sqs, queue[0], 12)
    poller.start()
    try:
        wait_for(lambda: len(handler.bodies) == 12)
    finally:
        poller.stop()

    assert sorted(handler.bodies) == sorted(bodies)
    assert handler.most_at_once == 3
    assert set(handler.batch_sizes) == {1}
    assert visible(sqs, queue[0]) == (0, 0)  # each deleted after its invocation


def test_a_batch_holds_at_most_the_batch_size(sqs, queue):
    handler = Recorder(hold_seconds=0)
    bodies = send(sqs, queue[0], 9)
    poller = SqsPoller(mapping(queue, batch_size=4), handler, sqs, REGION, workers=2, runtime=FastRuntime())
    poller.start()
    try:
        wait_for(lambda: len(handler.bodies) == 9)
    finally:
        poller.stop()

    assert sorted(handler.bodies) == sorted(bodies)
    assert max(handler.batch_sizes) <= 4


def test_after_a_stop_nothing_is_invoked_and_a_long_poll_in_flight_hands_its_messages_back(sqs, queue):
    handler = Recorder(hold_seconds=0)
    poller = SqsPoller(mapping(queue, batch_size=1), handler, sqs, REGION, workers=2, runtime=FastRuntime(), wait_seconds=5)
    poller.start()
    time.sleep(0.5)  # the receiver is inside its long poll
    poller.stop()
    send(sqs, queue[0], 1)  # the poll still in flight receives this one

    wait_for(lambda: visible(sqs, queue[0]) == (1, 0))
    time.sleep(0.5)
    assert handler.bodies == []
