"""PDF step: lay out the book, store the PDF, and mark the book COMPLETED or PARTIAL."""

from __future__ import annotations

from sqlalchemy.orm import Session

from storywink.domain.enums import BookStatus, ModerationStatus
from storywink.pipeline.book_loading import load_book, ordered_pages
from storywink.pipeline.jobs import StepOutcome
from storywink.pipeline.messages import PdfTask
from storywink.providers.crash import maybe_crash
from storywink.printing.book_pdf import PrintBook, PrintPage, render_book_pdf
from storywink.services.status import BookStatusService, StatusUpdate
from storywink.storage import keys
from storywink.storage.media import MediaStore


def render_pdf(session: Session, task: PdfTask, media: MediaStore) -> StepOutcome:
    book = load_book(session, task.book_id)
    if book.status != BookStatus.ILLUSTRATING:
        # Already printed and settled (a late duplicate), or failed meanwhile: nothing to do.
        return StepOutcome(output={"status": book.status.value, "pdfKey": book.pdf_key})
    pages = ordered_pages(book)

    def picture(page) -> bytes:  # type: ignore[no-untyped-def]
        # A page without an illustration (flagged or failed) keeps its photo, so the book is still whole.
        if page.moderation_status == ModerationStatus.OK and page.illustration_key:
            return media.read(page.illustration_key)
        return media.read(page.asset.s3_key)

    cover_page = next((p for p in pages if p.is_title_page), pages[0] if pages else None)
    document = render_book_pdf(
        PrintBook(
            title=book.title,
            child_name=book.child_name,
            cover_image=picture(cover_page) if cover_page else None,
            pages=[PrintPage(text=page.text, image=picture(page)) for page in pages],
        )
    )
    key = keys.pdf_key(book.id)
    media.write(key, document, "application/pdf")
    maybe_crash("pdf.after_upload", str(book.id))
    book.pdf_key = key
    final = BookStatus(task.outcome)
    BookStatusService(session).update_status(
        book.id, StatusUpdate("book.finished", book_status=final, data={"pdfReady": True})
    )
    return StepOutcome(output={"status": final.value, "pdfKey": key, "bytes": len(document)})
