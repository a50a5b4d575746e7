"""The queue dashboard's data: every step queue and dead-letter queue, and the latest executions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from storywink.aws import AwsClients
from storywink.services.dead_letter_queues import DeadLetterQueue, describe

RECENT_EXECUTIONS = 20


def queue_stats(aws: AwsClients, name: str, kind: str, url: str) -> dict[str, Any]:
    """Counts from SQS, and the oldest message's age from CloudWatch (step queues are never peeked:
    a receive would count against their maxReceiveCount)."""
    attributes = aws("sqs").get_queue_attributes(
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return {
        "name": name,
        "kind": kind,
        "depth": int(attributes["ApproximateNumberOfMessages"]),
        "inFlight": int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        "delayed": int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
        "oldestMessageAgeSeconds": _oldest_age(aws, url),
    }


def _oldest_age(aws: AwsClients, url: str) -> int | None:
    now = datetime.now(UTC)
    try:
        points = aws("cloudwatch").get_metric_statistics(
            Namespace="AWS/SQS",
            MetricName="ApproximateAgeOfOldestMessage",
            Dimensions=[{"Name": "QueueName", "Value": url.rstrip("/").rsplit("/", 1)[-1]}],
            StartTime=now - timedelta(minutes=10),
            EndTime=now,
            Period=60,
            Statistics=["Maximum"],
        )["Datapoints"]
    except ClientError:
        return None
    latest = max(points, key=lambda p: p["Timestamp"], default=None)
    return int(latest["Maximum"]) if latest else None


def recent_executions(aws: AwsClients, state_machine_arn: str | None) -> list[dict[str, Any]]:
    if not state_machine_arn:
        return []
    sfn = aws("stepfunctions")
    executions = sfn.list_executions(
        stateMachineArn=state_machine_arn, maxResults=RECENT_EXECUTIONS
    )["executions"]
    return [
        {
            "name": e["name"],
            "bookId": e["name"].rsplit("-", 1)[0],
            "status": e["status"],
            "startedAt": e["startDate"].isoformat(),
            "stoppedAt": e["stopDate"].isoformat() if e.get("stopDate") else None,
        }
        for e in sorted(executions, key=lambda e: e["startDate"], reverse=True)
    ]


def dashboard(aws: AwsClients, queues: dict[str, DeadLetterQueue], state_machine_arn: str | None) -> dict[str, Any]:
    rows = []
    for queue in queues.values():
        rows.append(queue_stats(aws, queue.name, "step", queue.source_url))
        dead = describe(aws("sqs"), queue)  # dead letters may be peeked: nothing consumes them but the DLQ handler
        rows.append({**queue_stats(aws, queue.name, "dead-letter", queue.url), "messages": dead["messages"]})
    return {
        "generatedAt": datetime.now(UTC).isoformat(),
        "queues": rows,
        "executions": recent_executions(aws, state_machine_arn),
    }
