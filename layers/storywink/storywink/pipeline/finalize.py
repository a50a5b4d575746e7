"""Finalize step: decide COMPLETED / PARTIAL / FAILED from the pages, or fail the book (the catch-all)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from storywink.domain.enums import BookStatus, JobStep, ModerationStatus
from storywink.domain.rules import FINAL_STATUSES
from storywink.pipeline.book_loading import load_book, ordered_pages
from storywink.pipeline.jobs import StepOutcome
from storywink.pipeline.messages import FinalizeTask
from storywink.providers.errors import ProviderError
from storywink.services.status import BookStatusService, StatusUpdate


def outcome_of(statuses: list[ModerationStatus]) -> BookStatus:
    ok = sum(1 for status in statuses if status == ModerationStatus.OK)
    if statuses and ok == len(statuses):
        return BookStatus.COMPLETED
    return BookStatus.PARTIAL if ok else BookStatus.FAILED


class FinalizeBook:
    """All database work, no waiting: the whole step runs in the claim's own short transaction."""

    kind = JobStep.FINALIZE

    def prepare(self, session: Session, task: FinalizeTask) -> StepOutcome:
        return finalize_book(session, task)

    def perform(self, plan: None) -> None:
        raise AssertionError("finalize finishes in prepare")

    def record(self, session: Session, task: FinalizeTask, plan: None, result: None) -> StepOutcome:
        raise AssertionError("finalize finishes in prepare")

    def record_error(self, session: Session, task: FinalizeTask, error: ProviderError) -> None:
        """Finalizing calls no provider."""


def finalize_book(session: Session, task: FinalizeTask) -> StepOutcome:
    book = load_book(session, task.book_id, for_update=True)
    status_service = BookStatusService(session)
    reasons = {str(r.get("pageId")): _reason(r) for r in task.results if r.get("status") != ModerationStatus.OK.value}
    if book.status in FINAL_STATUSES:
        # Already settled (a finished book always has its PDF): a late message never turns it FAILED.
        return StepOutcome(output={"status": book.status.value})
    if task.action == "FAIL":
        reason = _reason({"error": task.error, "cause": task.cause}) or "generation failed"
        _fail_unfinished_pages(status_service, book, reasons, default=reason)
        status_service.update_status(book.id, StatusUpdate("book.failed", book_status=BookStatus.FAILED, reason=reason))
        return StepOutcome(output={"status": BookStatus.FAILED.value})

    _fail_unfinished_pages(status_service, book, reasons, default="The illustration did not finish.")
    session.flush()
    session.expire(book, ["pages"])
    outcome = outcome_of([page.moderation_status for page in ordered_pages(book)])
    if outcome == BookStatus.FAILED:
        status_service.update_status(
            book.id, StatusUpdate("book.failed", book_status=BookStatus.FAILED, reason="No page could be illustrated.")
        )
    # COMPLETED and PARTIAL are set by the PDF step, together with the PDF, so a finished book always has one.
    return StepOutcome(output={"status": outcome.value})


def _fail_unfinished_pages(
    status_service: BookStatusService, book, reasons: dict[str, str], default: str  # type: ignore[no-untyped-def]
) -> None:
    for page in ordered_pages(book):
        if page.moderation_status == ModerationStatus.PENDING:
            status_service.update_status(
                book.id,
                StatusUpdate(
                    "page.failed",
                    page_id=page.id,
                    page_status=ModerationStatus.FAILED,
                    reason=reasons.get(str(page.id)) or default,
                ),
            )


def _reason(result: dict) -> str:
    error, cause = result.get("error") or "", result.get("cause") or ""
    return f"{error}: {cause}".strip(": ") if (error or cause) else ""
