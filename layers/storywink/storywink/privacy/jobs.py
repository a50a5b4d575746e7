"""The messages of the account deletion and export queues, and the sender both use."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Json
from pydantic.alias_generators import to_camel

from storywink.sqs_record import SqsRecord


class _Message(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class DeletionMessage(_Message):
    user_id: str


class ExportMessage(_Message):
    export_id: UUID


class DeletionRecord(SqsRecord):
    body: Json[DeletionMessage]


class ExportRecord(SqsRecord):
    body: Json[ExportMessage]


class JobQueue:
    """Sends a job's message; the client is built on first use."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self.queue_url = queue_url

    def send(self, message: _Message, delay_seconds: int = 0) -> None:
        self._sqs.send_message(
            QueueUrl=self.queue_url,
            MessageBody=message.model_dump_json(by_alias=True),
            DelaySeconds=max(0, min(900, delay_seconds)),  # SQS's most
        )
