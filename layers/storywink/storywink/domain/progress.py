"""BookProgress, exactly the shape of the seed plan's interface (camelCase on the wire), plus `queue`
while the book waits for capacity and `scheduledStartAt` while its generation is scheduled for later (each
omitted otherwise, so a book that is neither has the seed's shape)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pydantic.json_schema import SkipJsonSchema

from storywink.domain.enums import BookStatus


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


class StoryGenerationProgress(CamelModel):
    started: bool
    completed: bool
    error: str | None = None


class IllustrationProgress(CamelModel):
    total: int = Field(ge=0)
    completed: int = Field(ge=0)
    failed: int = Field(ge=0)
    in_progress: int = Field(ge=0)


class QueueProgress(CamelModel):
    """Where a waiting book stands in its line: premium and standard books wait in separate lines, each
    with capacity of its own (rules: storywink.domain.admission)."""

    position: int = Field(ge=1, description="1 = the next book of its line to start.")
    estimated_start_seconds: int = Field(
        ge=0, description="About how many seconds until it starts: a whole task duration per round of its line's capacity."
    )


class BookProgress(CamelModel):
    status: BookStatus
    story_generation: StoryGenerationProgress
    illustrations: IllustrationProgress
    # Omitted, never null, when the book is not waiting: the seed's fields stay exactly as they were.
    queue: QueueProgress | SkipJsonSchema[None] = Field(
        None,
        exclude_if=lambda queue: queue is None,
        description="Only while the book waits for capacity: its story or first illustrations are queued, none started.",
    )
    scheduled_start_at: datetime | SkipJsonSchema[None] = Field(
        None,
        exclude_if=lambda moment: moment is None,
        description="Only while the book's generation is scheduled for later (POST /generate with startAt): when it starts.",
    )
