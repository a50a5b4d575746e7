"""The shapes the state machine carries: an execution's input, and the task message it puts on a step
queue (built by the state machine from that input, see statemachine/book_generation.asl.json)."""

from __future__ import annotations

import json
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

GenerationMode = Literal["FULL", "ILLUSTRATE", "REDO_PAGES", "RENDER_PDF"]
Priority = Literal["standard", "premium"]


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class ExecutionInput(_Camel):
    book_id: UUID
    user_id: str
    mode: GenerationMode
    auto_illustrate: bool
    page_ids: list[UUID] = Field(default_factory=list)
    attempt: int = Field(ge=1)
    correlation_id: str = ""
    priority: Priority = "standard"
    # The owner's plan when the book started, for the traces only (the queues follow priority).
    plan: str = "unknown"
    # RENDER_PDF only: the status the finished book had, which the PDF step sets again with the new PDF.
    outcome: Literal["COMPLETED", "PARTIAL"] | None = None

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, exclude_none=True)

    @classmethod
    def parse(cls, raw: str) -> ExecutionInput | None:
        """The input of an execution, or None when it is not one of ours."""
        try:
            return cls.model_validate_json(raw)
        except ValidationError:
            return None


def execution_name(book_id: UUID, attempt: int) -> str:
    """{bookId}-{attempt}: the same start can never run twice."""
    return f"{book_id}-{attempt}"


class TaskMessage(_Camel):
    """What every step message carries: the task token and where the task belongs."""

    task_token: str = Field(min_length=1)
    book_id: UUID
    correlation_id: str = ""
    plan: str = "unknown"
    attempt: int = 1
    retry_count: int = 0


class TaskReference(_Camel):
    """What can be read from any step message, even a malformed one (the dead-letter path)."""

    task_token: str | None = None
    book_id: UUID | None = None
    page_id: UUID | None = None

    @classmethod
    def read(cls, body: str) -> TaskReference:
        try:
            data = json.loads(body)
        except ValueError:
            return cls()
        if not isinstance(data, dict):
            return cls()
        token = data.get("taskToken")
        return cls(
            task_token=token if isinstance(token, str) and token else None,
            book_id=_uuid(data.get("bookId")),
            page_id=_uuid(data.get("pageId")),
        )


def _uuid(value: object) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None
