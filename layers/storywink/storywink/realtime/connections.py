"""WebSocket connections and their book subscriptions, in DynamoDB.

One item per connection (topic "connection") and one per subscription (topic "book:{id}", with the
last event sequence number delivered to it, and while its pushes time out, until when it is skipped).
The ByTopic index finds a book's subscribers; it is eventually consistent, so whoever pushes re-reads
the subscription itself before sending. The ByUser index counts what one user holds open (the caps on
connections and subscriptions); being eventually consistent too, connects at the same instant may pass a
cap together by a few, never by more.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

CONNECTION_TOPIC = "connection"
BY_TOPIC_INDEX = "ByTopic"
BY_USER_INDEX = "ByUser"


def book_topic(book_id: str) -> str:
    return f"book:{book_id}"


@dataclass(frozen=True)
class Held:
    """What one user holds open: connections, and subscriptions over all of them."""

    connections: int
    subscriptions: int


@dataclass(frozen=True)
class Subscription:
    connection_id: str
    book_id: str
    user_id: str
    last_seq: int
    stalled_until: int = 0  # epoch seconds; 0 when its pushes go through

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Subscription:
        return cls(
            item["connectionId"],
            item["bookId"],
            item.get("userId", ""),
            int(item.get("lastSeq", 0)),
            int(item.get("stalledUntil", 0)),
        )

    def stalled(self, now: float) -> bool:
        return self.stalled_until > now


class ConnectionStore:
    def __init__(self, table: Any, ttl_seconds: int = 7200) -> None:
        self.table = table  # a boto3 DynamoDB Table resource
        self.ttl_seconds = ttl_seconds

    def _expires_at(self) -> int:
        return int(time.time()) + self.ttl_seconds

    def add_connection(self, connection_id: str, user_id: str) -> None:
        self.table.put_item(
            Item={
                "connectionId": connection_id,
                "topic": CONNECTION_TOPIC,
                "userId": user_id,
                "connectedAt": int(time.time()),
                "expiresAt": self._expires_at(),
            }
        )

    def connection_user(self, connection_id: str) -> str | None:
        item = self.table.get_item(
            Key={"connectionId": connection_id, "topic": CONNECTION_TOPIC}, ConsistentRead=True
        ).get("Item")
        return item["userId"] if item else None

    def subscription(self, connection_id: str, book_id: str) -> Subscription | None:
        """A strongly consistent read of one subscription (the ByTopic index is only eventually consistent)."""
        item = self.table.get_item(
            Key={"connectionId": connection_id, "topic": book_topic(book_id)}, ConsistentRead=True
        ).get("Item")
        return Subscription.from_item(item) if item else None

    def remove_connection(self, connection_id: str) -> None:
        items = self.table.query(KeyConditionExpression=Key("connectionId").eq(connection_id))["Items"]
        with self.table.batch_writer() as batch:
            for item in items:
                batch.delete_item(Key={"connectionId": item["connectionId"], "topic": item["topic"]})

    def forget_user(self, user_id: str) -> list[str]:
        """Remove every connection and subscription of a user; returns the ids of their connections (to close).
        The ByUser index is eventually consistent: a row it does not show yet expires with its TTL."""
        query: dict[str, Any] = {"IndexName": BY_USER_INDEX, "KeyConditionExpression": Key("userId").eq(user_id)}
        connections: set[str] = set()
        while True:
            page = self.table.query(**query)
            with self.table.batch_writer() as batch:
                for item in page["Items"]:
                    batch.delete_item(Key={"connectionId": item["connectionId"], "topic": item["topic"]})
                    connections.add(item["connectionId"])
            if "LastEvaluatedKey" not in page:
                return sorted(connections)
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def subscribe(self, connection_id: str, user_id: str, book_id: str, last_seq: int) -> None:
        self.table.put_item(
            Item={
                "connectionId": connection_id,
                "topic": book_topic(book_id),
                "bookId": book_id,
                "userId": user_id,
                "lastSeq": last_seq,
                "expiresAt": self._expires_at(),
            }
        )

    def unsubscribe(self, connection_id: str, book_id: str) -> None:
        self.table.delete_item(Key={"connectionId": connection_id, "topic": book_topic(book_id)})

    def held_by(self, user_id: str) -> Held:
        """The user's live connections and subscriptions (rows past their expiry, not yet removed by the
        TTL, do not count)."""
        now = int(time.time())
        connections = subscriptions = 0
        query: dict[str, Any] = {"IndexName": BY_USER_INDEX, "KeyConditionExpression": Key("userId").eq(user_id)}
        while True:
            page = self.table.query(**query)
            for item in page["Items"]:
                if int(item.get("expiresAt", now + 1)) <= now:
                    continue
                if item["topic"] == CONNECTION_TOPIC:
                    connections += 1
                else:
                    subscriptions += 1
            if "LastEvaluatedKey" not in page:
                return Held(connections, subscriptions)
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def subscribers(self, book_id: str) -> list[Subscription]:
        items: list[dict[str, Any]] = []
        query: dict[str, Any] = {
            "IndexName": BY_TOPIC_INDEX,
            "KeyConditionExpression": Key("topic").eq(book_topic(book_id)),
        }
        while True:
            page = self.table.query(**query)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                break
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return [Subscription.from_item(item) for item in items]

    def advance(self, connection_id: str, book_id: str, seq: int) -> bool:
        """Record that ``seq`` reached this subscriber (and that its pushes go through again). False when the
        subscription is gone or already further on: a concurrent catch-up got there first."""
        return self._update(
            connection_id,
            book_id,
            UpdateExpression="SET lastSeq = :seq REMOVE stalledUntil",
            ConditionExpression="attribute_exists(connectionId) AND lastSeq < :seq",
            ExpressionAttributeValues={":seq": seq},
        )

    def stall(self, connection_id: str, book_id: str, until: int) -> bool:
        """Skip this subscriber until ``until`` (epoch seconds): its last push timed out."""
        return self._update(
            connection_id,
            book_id,
            UpdateExpression="SET stalledUntil = :until",
            ConditionExpression="attribute_exists(connectionId)",
            ExpressionAttributeValues={":until": until},
        )

    def _update(self, connection_id: str, book_id: str, **update: Any) -> bool:
        try:
            self.table.update_item(Key={"connectionId": connection_id, "topic": book_topic(book_id)}, **update)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
