"""The local stack's corrections to moto, checked against the AWS behaviour they restore."""

from __future__ import annotations

import threading
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from storywink.local.moto_patches import apply_moto_patches


def test_a_fifo_group_gives_out_no_message_while_another_of_it_is_in_flight(aws_environment):
    apply_moto_patches()
    sqs = boto3.client("sqs", endpoint_url=aws_environment)
    queue = sqs.create_queue(
        QueueName=f"fifo-check-{uuid.uuid4().hex[:8]}.fifo",
        Attributes={"FifoQueue": "true", "VisibilityTimeout": "30"},
    )["QueueUrl"]
    received: list[list[dict]] = []

    def poll() -> None:
        received.append(sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=2).get("Messages", []))

    # Two consumers are already waiting when the group's first message arrives; one of them takes it.
    pollers = [threading.Thread(target=poll) for _ in range(2)]
    for poller in pollers:
        poller.start()
    threading.Event().wait(0.5)  # both are inside their long poll
    sqs.send_message(QueueUrl=queue, MessageBody="first", MessageGroupId="book-1", MessageDeduplicationId="1")
    while not any(received):
        threading.Event().wait(0.02)
    # The group's next message must wait for the first to be done, even for the consumer still waiting.
    sqs.send_message(QueueUrl=queue, MessageBody="second", MessageGroupId="book-1", MessageDeduplicationId="2")
    for poller in pollers:
        poller.join(timeout=10)

    bodies = sorted(m["Body"] for batch in received for m in batch)
    assert bodies == ["first"]
    (first,) = [m for batch in received for m in batch]
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=first["ReceiptHandle"])
    after = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=2)["Messages"]
    assert [m["Body"] for m in after] == ["second"]


def test_the_message_move_task_is_refused_at_once_with_a_client_error(aws_environment):
    apply_moto_patches()
    sqs = boto3.client("sqs", endpoint_url=aws_environment)
    arns = [
        sqs.get_queue_attributes(
            QueueUrl=sqs.create_queue(QueueName=f"move-{name}-{uuid.uuid4().hex[:8]}")["QueueUrl"],
            AttributeNames=["QueueArn"],
        )["Attributes"]["QueueArn"]
        for name in ("dlq", "source")
    ]
    with pytest.raises(ClientError) as refused:
        sqs.start_message_move_task(SourceArn=arns[0], DestinationArn=arns[1])
    # A 400 is not retried: the redrive falls back to moving messages itself without waiting.
    assert refused.value.response["Error"]["QueryErrorCode"] == "UnsupportedOperation"
    assert refused.value.response["ResponseMetadata"]["RetryAttempts"] == 0
