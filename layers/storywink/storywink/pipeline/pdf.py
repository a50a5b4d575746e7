"""PDF step: lay out the book, store the PDF, and mark the book COMPLETED or PARTIAL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from storywink.domain.enums import BookStatus, JobStep, ModerationStatus
from storywink.pipeline.book_loading import load_book, ordered_pages
from storywink.pipeline.jobs import StepOutcome
from storywink.pipeline.messages import PdfTask
from storywink.printing.book import PrintBook, PrintPage
from storywink.providers.errors import ProviderError
from storywink.services.status import BookStatusService, StatusUpdate
from storywink.storage import keys
from storywink.storage.media import MediaStore


@dataclass(frozen=True)
class PdfPlan:
    book_id: str
    title: str
    child_name: str
    cover_key: str | None
    pages: list[tuple[str | None, str]]  # (text, picture key) per page, in order


@dataclass(frozen=True)
class Printed:
    key: str
    size: int


class RenderPdf:
    kind = JobStep.PDF

    def __init__(self, media: MediaStore, render: Callable[[PrintBook], bytes]) -> None:
        self.media = media
        self.render = render

    def prepare(self, session: Session, task: PdfTask) -> StepOutcome | PdfPlan:
        book = load_book(session, task.book_id)
        if book.status != BookStatus.ILLUSTRATING:
            # Already printed and settled (a late duplicate), or failed meanwhile: nothing to do.
            return StepOutcome(output={"status": book.status.value, "pdfKey": book.pdf_key})
        pages = ordered_pages(book)

        def picture(page) -> str:  # type: ignore[no-untyped-def]
            # A page without an illustration (flagged or failed) keeps its photo, so the book is still whole.
            if page.moderation_status == ModerationStatus.OK and page.illustration_key:
                return page.illustration_key
            return page.asset.s3_key

        cover = next((p for p in pages if p.is_title_page), pages[0] if pages else None)
        return PdfPlan(
            book_id=str(book.id),
            title=book.title,
            child_name=book.child_name,
            cover_key=picture(cover) if cover else None,
            pages=[(page.text, picture(page)) for page in pages],
        )

    def perform(self, plan: PdfPlan) -> Printed:
        document = self.render(
            PrintBook(
                title=plan.title,
                child_name=plan.child_name,
                cover_image=self.media.read(plan.cover_key) if plan.cover_key else None,
                pages=[PrintPage(text=text, image=self.media.read(key)) for text, key in plan.pages],
            )
        )
        key = keys.pdf_key(plan.book_id)
        self.media.write(key, document, "application/pdf")
        return Printed(key, len(document))

    def record(self, session: Session, task: PdfTask, plan: PdfPlan, printed: Printed) -> StepOutcome:
        book = load_book(session, task.book_id, for_update=True)
        if book.status != BookStatus.ILLUSTRATING:
            return StepOutcome(output={"status": book.status.value, "pdfKey": book.pdf_key})
        book.pdf_key = printed.key
        final = BookStatus(task.outcome)
        BookStatusService(session).update_status(book.id, StatusUpdate("book.finished", book_status=final, data={"pdfReady": True}))
        return StepOutcome(output={"status": final.value, "pdfKey": printed.key, "bytes": printed.size})

    def record_error(self, session: Session, task: PdfTask, error: ProviderError) -> None:
        """Rendering has no provider: nothing to record."""
