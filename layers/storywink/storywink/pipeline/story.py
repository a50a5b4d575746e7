"""Story step: one text (and illustration notes) per page, from the photos and the book's details."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from storywink.domain.enums import BookStatus, JobStep
from storywink.pipeline.book_loading import load_book, ordered_pages
from storywink.pipeline.jobs import StepOutcome
from storywink.pipeline.messages import StoryTask
from storywink.providers.base import PagePhoto, StoryProvider, StoryRequest, StoryResult
from storywink.providers.errors import ProviderError
from storywink.services.status import BookStatusService, StatusUpdate
from storywink.storage.media import MediaStore


@dataclass(frozen=True)
class StoryPlan:
    request: StoryRequest  # without the photos' bytes: they are read outside the transaction
    page_photo_keys: dict[str, str]
    output: dict


class WriteStory:
    kind = JobStep.STORY

    def __init__(self, media: MediaStore, provider: StoryProvider) -> None:
        self.media = media
        self.provider = provider

    def prepare(self, session: Session, task: StoryTask) -> StepOutcome | StoryPlan:
        book = load_book(session, task.book_id)
        pages = ordered_pages(book)
        output = {"pageIds": [str(p.id) for p in pages], "autoIllustrate": book.auto_illustrate}
        if book.status != BookStatus.GENERATING:
            # The story was already written (a late duplicate): never overwrite what the parent may have edited.
            return StepOutcome(output=output)
        if book.queued_at is not None:
            BookStatusService(session).work_started(book.id, JobStep.STORY)
        request = StoryRequest(
            book_id=str(book.id),
            details=book.details,
            pages=[PagePhoto(str(p.id), p.page_number, p.is_title_page, b"") for p in pages],
        )
        return StoryPlan(request, {str(p.id): p.asset.s3_key for p in pages}, output)

    def perform(self, plan: StoryPlan) -> StoryResult:
        photos = [
            PagePhoto(page.page_id, page.page_number, page.is_title_page, self.media.read(plan.page_photo_keys[page.page_id]))
            for page in plan.request.pages
        ]
        return self.provider.write_story(replace(plan.request, pages=photos))

    def record(self, session: Session, task: StoryTask, plan: StoryPlan, story: StoryResult) -> StepOutcome:
        book = load_book(session, task.book_id, for_update=True)
        if book.status != BookStatus.GENERATING:
            return StepOutcome(output=plan.output)  # settled meanwhile: keep what is there
        texts = {entry.page_id: entry for entry in story.pages}
        for page in ordered_pages(book):
            entry = texts.get(str(page.id))
            if entry is not None:
                page.text = entry.text
                page.illustration_notes = entry.illustration_notes
                page.text_confirmed = False
        book.prompt_tokens += story.prompt_tokens
        book.completion_tokens += story.completion_tokens
        next_status = BookStatus.ILLUSTRATING if book.auto_illustrate else BookStatus.STORY_READY
        BookStatusService(session).update_status(book.id, StatusUpdate(event_type="story.completed", book_status=next_status))
        return StepOutcome(
            output=plan.output,
            provider=story.provider,
            prompt_tokens=story.prompt_tokens,
            completion_tokens=story.completion_tokens,
        )

    def record_error(self, session: Session, task: StoryTask, error: ProviderError) -> None:
        """A story that cannot be written fails the book through the state machine's catch-all."""

