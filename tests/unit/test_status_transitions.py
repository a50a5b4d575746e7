"""The one table of allowed status transitions: every pair, legal and illegal."""

from __future__ import annotations

import itertools

import pytest

from storywink.domain.enums import BookStatus as B
from storywink.domain.enums import ModerationStatus as M
from storywink.domain.transitions import book_transition_allowed, page_transition_allowed

LEGAL_BOOK = {
    (B.DRAFT, B.GENERATING),
    (B.GENERATING, B.STORY_READY), (B.GENERATING, B.ILLUSTRATING), (B.GENERATING, B.FAILED),
    (B.STORY_READY, B.ILLUSTRATING), (B.STORY_READY, B.GENERATING), (B.STORY_READY, B.FAILED),
    (B.ILLUSTRATING, B.COMPLETED), (B.ILLUSTRATING, B.PARTIAL), (B.ILLUSTRATING, B.FAILED),
    (B.COMPLETED, B.ILLUSTRATING), (B.COMPLETED, B.FAILED),
    (B.PARTIAL, B.ILLUSTRATING), (B.PARTIAL, B.FAILED),
    (B.FAILED, B.GENERATING), (B.FAILED, B.ILLUSTRATING),
}
LEGAL_PAGE = {
    (M.PENDING, M.OK), (M.PENDING, M.FLAGGED), (M.PENDING, M.FAILED),
    (M.OK, M.PENDING), (M.FLAGGED, M.PENDING), (M.FAILED, M.PENDING),
}


@pytest.mark.parametrize("current, target", list(itertools.product(B, B)), ids=lambda s: s.value)
def test_book_transition_is_allowed_exactly_when_listed(current, target):
    assert book_transition_allowed(current, target) == ((current, target) in LEGAL_BOOK)


@pytest.mark.parametrize("current, target", list(itertools.product(M, M)), ids=lambda s: s.value)
def test_page_transition_is_allowed_exactly_when_listed(current, target):
    assert page_transition_allowed(current, target) == ((current, target) in LEGAL_PAGE)


def test_a_finished_page_is_never_overwritten_by_another_result():
    for done in (M.OK, M.FLAGGED, M.FAILED):
        for other in (M.OK, M.FLAGGED, M.FAILED):
            assert not page_transition_allowed(done, other)
