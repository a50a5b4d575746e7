"""BookProgress, exactly the shape of the seed plan's interface (camelCase on the wire)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

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


class BookProgress(CamelModel):
    status: BookStatus
    story_generation: StoryGenerationProgress
    illustrations: IllustrationProgress
