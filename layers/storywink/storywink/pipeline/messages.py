"""The messages the state machine puts on the step queues (bodies of SQS records), typed."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import Field, Json

from storywink.domain.execution import TaskMessage
from storywink.sqs_record import SqsRecord


class StoryTask(TaskMessage):
    pass


class IllustrationTask(TaskMessage):
    page_id: UUID


class FinalizeTask(TaskMessage):
    action: Literal["FINALIZE", "FAIL"] = "FINALIZE"
    results: list[dict[str, Any]] = Field(default_factory=list)
    error: str | None = None
    cause: str | None = None


class PdfTask(TaskMessage):
    outcome: Literal["COMPLETED", "PARTIAL"]


class StoryRecord(SqsRecord):
    body: Json[StoryTask]


class IllustrationRecord(SqsRecord):
    body: Json[IllustrationTask]


class FinalizeRecord(SqsRecord):
    body: Json[FinalizeTask]


class PdfRecord(SqsRecord):
    body: Json[PdfTask]
