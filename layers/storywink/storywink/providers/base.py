"""What the pipeline hands a provider and what it gets back. Pure data; no provider imports here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from storywink.domain.book_details import BookDetails


@dataclass(frozen=True)
class PagePhoto:
    page_id: str
    page_number: int
    is_title_page: bool
    photo: bytes


@dataclass(frozen=True)
class StoryRequest:
    book_id: str
    details: BookDetails
    pages: list[PagePhoto]


@dataclass(frozen=True)
class PageStory:
    page_id: str
    text: str
    illustration_notes: str


@dataclass(frozen=True)
class StoryResult:
    pages: list[PageStory]
    title: str
    prompt_tokens: int
    completion_tokens: int
    provider: str


@runtime_checkable
class StoryProvider(Protocol):
    name: str

    def write_story(self, request: StoryRequest) -> StoryResult: ...


@dataclass(frozen=True)
class IllustrationRequest:
    book_id: str
    page_id: str
    art_style: str
    photo: bytes
    text: str | None
    illustration_notes: str | None
    is_title_page: bool


@dataclass(frozen=True)
class IllustrationResult:
    image: bytes
    content_type: str
    provider: str


@runtime_checkable
class IllustrationProvider(Protocol):
    name: str

    def illustrate(self, request: IllustrationRequest) -> IllustrationResult: ...
