"""Illustration step: redraw one page's photo in the book's art style and store it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from storywink.db.tables import Book, Page
from storywink.domain.enums import BookStatus, JobStep, ModerationStatus
from storywink.pipeline.jobs import StepOutcome
from storywink.pipeline.messages import IllustrationTask
from storywink.providers.base import IllustrationProvider, IllustrationRequest
from storywink.providers.errors import ContentPolicyError, PermanentProviderError, ProviderError
from storywink.services.status import BookStatusService, StatusUpdate
from storywink.storage import keys
from storywink.storage.media import REVALIDATE, MediaStore


@dataclass(frozen=True)
class IllustrationPlan:
    request: IllustrationRequest  # without the photo's bytes: read outside the transaction
    photo_key: str


@dataclass(frozen=True)
class Drawn:
    key: str
    provider: str


class IllustratePage:
    kind = JobStep.ILLUSTRATION

    def __init__(self, media: MediaStore, provider: IllustrationProvider) -> None:
        self.media = media
        self.provider = provider

    def prepare(self, session: Session, task: IllustrationTask) -> StepOutcome | IllustrationPlan:
        page = session.get(Page, task.page_id)
        book = session.get(Book, task.book_id)
        if page is None or book is None or page.book_id != book.id:
            raise PermanentProviderError(f"page {task.page_id} is not part of book {task.book_id}")
        if page.moderation_status != ModerationStatus.PENDING or book.status != BookStatus.ILLUSTRATING:
            # Already settled (a late duplicate) or no longer wanted: report it as it is, draw nothing.
            return _settled(page)
        if book.queued_at is not None:  # the book's first page to be claimed
            BookStatusService(session).work_started(book.id, JobStep.ILLUSTRATION)
        request = IllustrationRequest(
            book_id=str(book.id),
            page_id=str(page.id),
            art_style=book.art_style,
            photo=b"",
            text=page.text,
            illustration_notes=page.illustration_notes,
            is_title_page=page.is_title_page,
        )
        return IllustrationPlan(request, page.asset.s3_key)

    def perform(self, plan: IllustrationPlan) -> Drawn:
        result = self.provider.illustrate(replace(plan.request, photo=self.media.read(plan.photo_key)))
        # One object per page: a redelivered or retried task overwrites, never duplicates. Being rewritten
        # in place, a browser keeps it but asks again (ETag) whenever it shows it.
        key = keys.illustration_key(plan.request.book_id, plan.request.page_id)
        self.media.write(key, result.image, result.content_type, cache_control=REVALIDATE)
        return Drawn(key, result.provider)

    def record(self, session: Session, task: IllustrationTask, plan: IllustrationPlan, drawn: Drawn) -> StepOutcome:
        book, page = _locked(session, task)
        if page.moderation_status != ModerationStatus.PENDING or book.status != BookStatus.ILLUSTRATING:
            return _settled(page)  # settled meanwhile: the stored image changes nothing
        page.illustration_key = drawn.key
        BookStatusService(session).update_status(
            task.book_id, StatusUpdate(event_type="page.illustrated", page_id=page.id, page_status=ModerationStatus.OK)
        )
        return StepOutcome(output={"pageId": str(page.id), "status": ModerationStatus.OK.value}, provider=drawn.provider)

    def record_error(self, session: Session, task: IllustrationTask, error: ProviderError) -> None:
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


def _settled(page: Page) -> StepOutcome:
    return StepOutcome(output={"pageId": str(page.id), "status": page.moderation_status.value})


def _locked(session: Session, task: IllustrationTask) -> tuple[Book, Page]:
    """The book, then the page, locked and re-read (the status service takes them in the same order)."""
    book = session.execute(
        select(Book).where(Book.id == task.book_id).with_for_update(key_share=True).execution_options(populate_existing=True)
    ).scalar_one()
    page = session.execute(
        select(Page).where(Page.id == task.page_id).with_for_update(key_share=True).execution_options(populate_existing=True)
    ).scalar_one()
    return book, page
