"""Illustration step: redraw one page's photo in the book's art style and store it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from storywink.db.tables import Book, Page
from storywink.domain.enums import BookStatus, ModerationStatus
from storywink.pipeline.jobs import StepOutcome
from storywink.pipeline.messages import IllustrationTask
from storywink.providers.base import IllustrationProvider, IllustrationRequest
from storywink.providers.crash import maybe_crash
from storywink.providers.errors import ContentPolicyError, PermanentProviderError, ProviderError
from storywink.services.status import BookStatusService, StatusUpdate
from storywink.storage import keys
from storywink.storage.media import MediaStore


def illustrate_page(
    session: Session, task: IllustrationTask, media: MediaStore, provider: IllustrationProvider
) -> StepOutcome:
    page = session.get(Page, task.page_id)
    book = session.get(Book, task.book_id)
    if page is None or book is None or page.book_id != book.id:
        raise PermanentProviderError(f"page {task.page_id} is not part of book {task.book_id}")
    if page.moderation_status != ModerationStatus.PENDING or book.status != BookStatus.ILLUSTRATING:
        # Already settled (a late duplicate) or no longer wanted: report it as it is, draw nothing.
        return StepOutcome(output={"pageId": str(page.id), "status": page.moderation_status.value})
    result = provider.illustrate(
        IllustrationRequest(
            book_id=str(book.id),
            page_id=str(page.id),
            art_style=book.art_style,
            photo=media.read(page.asset.s3_key),
            text=page.text,
            illustration_notes=page.illustration_notes,
            is_title_page=page.is_title_page,
        )
    )
    # One object per page: a redelivered or retried task overwrites, never duplicates.
    key = keys.illustration_key(book.id, page.id)
    media.write(key, result.image, result.content_type)
    maybe_crash("illustration.after_upload", str(page.id))
    page.illustration_key = key
    BookStatusService(session).update_status(
        book.id,
        StatusUpdate(event_type="page.illustrated", page_id=page.id, page_status=ModerationStatus.OK),
    )
    return StepOutcome(output={"pageId": str(page.id), "status": ModerationStatus.OK.value}, provider=result.provider)


def record_illustration_error(session: Session, task: IllustrationTask, error: ProviderError) -> None:
    """Refusals flag the page and permanent errors fail it; transient errors leave it for the state machine's retry."""
    if isinstance(error, ContentPolicyError):
        status, event_type = ModerationStatus.FLAGGED, "page.flagged"
    elif isinstance(error, PermanentProviderError):
        status, event_type = ModerationStatus.FAILED, "page.failed"
    else:
        return
    BookStatusService(session).update_status(
        task.book_id, StatusUpdate(event_type=event_type, page_id=task.page_id, page_status=status, reason=str(error))
    )
