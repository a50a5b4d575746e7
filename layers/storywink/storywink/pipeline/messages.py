"""The messages the state machine puts on the step queues (bodies of SQS records), typed."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Field, Json

from storywink.domain.execution import TaskMessage


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


class StoryRecord(SqsRecordModel):
    body: Json[StoryTask]  # type: ignore[assignment]


class IllustrationRecord(SqsRecordModel):
    body: Json[IllustrationTask]  # type: ignore[assignment]


class FinalizeRecord(SqsRecordModel):
    body: Json[FinalizeTask]  # type: ignore[assignment]


class PdfRecord(SqsRecordModel):
    body: Json[PdfTask]  # type: ignore[assignment]
