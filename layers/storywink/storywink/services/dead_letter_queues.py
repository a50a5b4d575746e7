"""Inspect and redrive the step dead-letter queues (admin API and `storywink dlq`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from storywink.domain.errors import NotFound, ServiceUnavailable
from storywink.observability import logger

PEEK_LIMIT = 10
# The steps with a dead-letter queue, as template.yaml names them in DEAD_LETTER_QUEUES.
STEP_QUEUE_NAMES = ("story", "illustration", "finalize", "pdf", "priority-story", "priority-illustration")


@dataclass(frozen=True)
class DeadLetterQueue:
    name: str
    url: str
    source_url: str


def queues_from_json(raw: str | None) -> dict[str, DeadLetterQueue]:
    if not raw:
        raise ServiceUnavailable("Dead-letter queues are not configured (DEAD_LETTER_QUEUES).", code="DLQ_NOT_CONFIGURED")
    return {name: DeadLetterQueue(name, q["dlq"], q["source"]) for name, q in json.loads(raw).items()}


def find_queue(queues: dict[str, DeadLetterQueue], name: str) -> DeadLetterQueue:
    if name not in queues:
        raise NotFound(f"No dead-letter queue named {name!r}; known: {', '.join(sorted(queues))}.", code="DLQ_NOT_FOUND")
    return queues[name]


def describe(sqs: Any, queue: DeadLetterQueue) -> dict[str, Any]:
    """Depth, in-flight count and a peek at up to ten messages (they become visible again at once)."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue.url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    peeked = sqs.receive_message(
        QueueUrl=queue.url, MaxNumberOfMessages=PEEK_LIMIT, VisibilityTimeout=0, AttributeNames=["All"]
    ).get("Messages", [])
    return {
        "name": queue.name,
        "depth": int(attributes["ApproximateNumberOfMessages"]),
        "inFlight": int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        "messages": [_summary(message) for message in peeked],
    }


def _summary(message: dict[str, Any]) -> dict[str, Any]:
    try:
        body = json.loads(message["Body"])
        body = body if isinstance(body, dict) else {}
    except ValueError:
        body = {}
    return {
        "messageId": message["MessageId"],
        "bookId": body.get("bookId"),
        "pageId": body.get("pageId"),
        "receiveCount": int(message.get("Attributes", {}).get("ApproximateReceiveCount", 0)),
        "sentAt": int(message.get("Attributes", {}).get("SentTimestamp", 0)),
        "body": message["Body"][:2000],
    }


def redrive(sqs: Any, queue: DeadLetterQueue) -> dict[str, Any]:
    """Move every message back to its source queue. SQS's own move task where the service offers it;
    otherwise receive, send, then delete — a message is only deleted once its copy is sent, so none
    is ever dropped (a crash in between can duplicate one, which the idempotent workers absorb)."""
    arns = {
        url: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for url in (queue.url, queue.source_url)
    }
    try:
        task = sqs.start_message_move_task(SourceArn=arns[queue.url], DestinationArn=arns[queue.source_url])
        return {"name": queue.name, "method": "StartMessageMoveTask", "taskHandle": task["TaskHandle"]}
    except ClientError as exc:
        logger.info("message move task unavailable; moving messages one by one", extra={"awsError": str(exc)})
    moved = 0
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue.url, MaxNumberOfMessages=10, VisibilityTimeout=60,
            AttributeNames=["All"], MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            extra = {"MessageAttributes": message["MessageAttributes"]} if message.get("MessageAttributes") else {}
            sqs.send_message(QueueUrl=queue.source_url, MessageBody=message["Body"], **extra)
            sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return {"name": queue.name, "method": "receive-send-delete", "moved": moved}
