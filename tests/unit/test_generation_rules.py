"""When a book may start generating, illustrating or retrying, and which pages a retry redoes (no database)."""

from __future__ import annotations

import pytest

from storywink.domain.enums import BookStatus as B
from storywink.domain.enums import ModerationStatus as M
from storywink.domain.errors import Conflict, ValidationFailed
from storywink.domain.generation_rules import PageState, check_can_generate, check_can_illustrate, pages_to_retry


@pytest.mark.parametrize("status", [B.DRAFT, B.FAILED])
def test_a_draft_or_failed_book_with_photos_may_generate(status):
    check_can_generate(status, page_count=3)


@pytest.mark.parametrize("status", [B.GENERATING, B.STORY_READY, B.ILLUSTRATING, B.COMPLETED, B.PARTIAL])
def test_any_other_book_may_not_generate_again(status):
    with pytest.raises(Conflict) as refused:
        check_can_generate(status, page_count=3)
    assert refused.value.code == "BOOK_STATE_CONFLICT" and refused.value.details == {"status": status.value}


def test_a_book_without_photos_may_not_generate():
    with pytest.raises(ValidationFailed) as refused:
        check_can_generate(B.DRAFT, page_count=0)
    assert refused.value.code == "BOOK_HAS_NO_PHOTOS"


def test_illustration_starts_only_from_a_ready_story():
    check_can_illustrate(B.STORY_READY)
    for status in set(B) - {B.STORY_READY}:
        with pytest.raises(Conflict):
            check_can_illustrate(status)


def page(number: int, status: M, has_text: bool = True) -> tuple[str, PageState]:
    return f"page-{number}", PageState(number, status, has_text)


def test_a_retry_redoes_only_the_failed_pages_in_page_order():
    pages = [page(3, M.FAILED), page(1, M.OK), page(2, M.FLAGGED), page(0, M.FAILED)]
    assert pages_to_retry(B.PARTIAL, pages) == ["page-0", "page-3"]


@pytest.mark.parametrize("status", [B.DRAFT, B.GENERATING, B.STORY_READY, B.ILLUSTRATING, B.COMPLETED])
def test_only_a_partial_or_failed_book_may_retry(status):
    with pytest.raises(Conflict):
        pages_to_retry(status, [page(1, M.FAILED)])


def test_a_retry_with_no_failed_page_is_refused():
    with pytest.raises(ValidationFailed) as refused:
        pages_to_retry(B.PARTIAL, [page(1, M.OK), page(2, M.FLAGGED)])
    assert refused.value.code == "NOTHING_TO_RETRY" and "no failed pages" in refused.value.message


def test_a_book_whose_story_was_never_written_cannot_retry_its_pages():
    with pytest.raises(ValidationFailed) as refused:
        pages_to_retry(B.FAILED, [page(1, M.FAILED, has_text=False)])
    assert "never written" in refused.value.message
