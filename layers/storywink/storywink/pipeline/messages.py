"""The messages the state machine puts on the step queues (bodies of SQS records), typed."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, ConfigDict, Field, Json
from pydantic.alias_generators import to_camel


class TaskMessage(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    task_token: str = Field(min_length=1)
    book_id: UUID
    correlation_id: str = ""
    attempt: int = 1
    retry_count: int = 0


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
