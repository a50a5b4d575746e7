"""When a book may start generating, illustrating or retrying, and which pages a retry redoes.

Pure rules over statuses: the generation service applies them to a book's rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from storywink.domain.enums import BookStatus, ModerationStatus
from storywink.domain.errors import Conflict, ValidationFailed

GENERATION_STARTABLE = frozenset({BookStatus.DRAFT, BookStatus.FAILED})
RETRYABLE = frozenset({BookStatus.PARTIAL, BookStatus.FAILED})
PDF_RENDERABLE = frozenset({BookStatus.COMPLETED, BookStatus.PARTIAL})


@dataclass(frozen=True)
class PageState:
    number: int
    status: ModerationStatus
    has_text: bool


PageT = TypeVar("PageT")


def check_can_generate(status: BookStatus, page_count: int) -> None:
    if status not in GENERATION_STARTABLE:
        raise Conflict(
            f"A book that is {status.value} cannot be generated again; retry its failed pages instead.",
            code="BOOK_STATE_CONFLICT",
            details={"status": status.value},
        )
    if page_count == 0:
        raise ValidationFailed("Add at least one photo before generating the book.", code="BOOK_HAS_NO_PHOTOS")


def check_can_illustrate(status: BookStatus) -> None:
    if status != BookStatus.STORY_READY:
        raise Conflict(
            "Illustration starts from a book whose story is ready.",
            code="BOOK_STATE_CONFLICT",
            details={"status": status.value},
        )


def check_can_render_pdf(status: BookStatus) -> None:
    """Only a finished book (COMPLETED or PARTIAL) has a PDF to render again."""
    if status not in PDF_RENDERABLE:
        raise Conflict(
            f"A book that is {status.value} has no finished PDF to render again.",
            code="BOOK_STATE_CONFLICT",
            details={"status": status.value},
        )


def pages_to_retry(status: BookStatus, pages: Sequence[tuple[PageT, PageState]]) -> list[PageT]:
    """The FAILED pages, in page order (OK and FLAGGED pages are never redone); refuses a retry that has
    nothing to redo or a book whose story was never written."""
    if status not in RETRYABLE:
        raise Conflict(
            f"A book that is {status.value} has nothing to retry.",
            code="BOOK_STATE_CONFLICT",
            details={"status": status.value},
        )
    ordered = sorted(pages, key=lambda item: item[1].number)
    failed = [page for page, state in ordered if state.status == ModerationStatus.FAILED]
    if not failed or any(not state.has_text for _, state in ordered):
        raise ValidationFailed(
            "There are no failed pages to retry." if not failed else "The story was never written: generate the book again.",
            code="NOTHING_TO_RETRY",
            details={"status": status.value},
        )
    return failed
