"""Story step: one text (and illustration notes) per page, from the photos and the book's details."""

from __future__ import annotations

from sqlalchemy.orm import Session

from storywink.domain.enums import BookStatus
from storywink.pipeline.book_loading import load_book, ordered_pages
from storywink.pipeline.jobs import StepOutcome
from storywink.pipeline.messages import StoryTask
from storywink.providers.crash import maybe_crash
from storywink.providers.base import PagePhoto, StoryProvider, StoryRequest
from storywink.services.status import BookStatusService, StatusUpdate
from storywink.storage.media import MediaStore


def write_story(session: Session, task: StoryTask, media: MediaStore, provider: StoryProvider) -> StepOutcome:
    book = load_book(session, task.book_id)
    pages = ordered_pages(book)
    output = {"pageIds": [str(p.id) for p in pages], "autoIllustrate": book.auto_illustrate}
    if book.status != BookStatus.GENERATING:
        # The story was already written (a late duplicate): never overwrite what the parent may have edited.
        return StepOutcome(output=output)
    request = StoryRequest(
        book_id=str(book.id),
        details=book.details,
        pages=[
            PagePhoto(str(p.id), p.page_number, p.is_title_page, media.read(p.asset.s3_key)) for p in pages
        ],
    )
    story = provider.write_story(request)
    texts = {entry.page_id: entry for entry in story.pages}
    for page in pages:
        entry = texts.get(str(page.id))
        if entry is not None:
            page.text = entry.text
            page.illustration_notes = entry.illustration_notes
            page.text_confirmed = False
    maybe_crash("story.after_write", str(book.id))
    book.prompt_tokens += story.prompt_tokens
    book.completion_tokens += story.completion_tokens
    next_status = BookStatus.ILLUSTRATING if book.auto_illustrate else BookStatus.STORY_READY
    BookStatusService(session).update_status(
        book.id, StatusUpdate(event_type="story.completed", book_status=next_status)
    )
    return StepOutcome(
        output=output,
        provider=story.provider,
        prompt_tokens=story.prompt_tokens,
        completion_tokens=story.completion_tokens,
    )
