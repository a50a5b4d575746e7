"""The one table of allowed status transitions, for books and for pages. Pure data."""

from storywink.domain.enums import BookStatus, ModerationStatus

B = BookStatus
BOOK_TRANSITIONS: dict[BookStatus, frozenset[BookStatus]] = {
    B.DRAFT: frozenset({B.GENERATING}),
    B.GENERATING: frozenset({B.STORY_READY, B.ILLUSTRATING, B.FAILED}),
    B.STORY_READY: frozenset({B.ILLUSTRATING, B.GENERATING, B.FAILED}),
    B.ILLUSTRATING: frozenset({B.COMPLETED, B.PARTIAL, B.FAILED}),
    # A finished book can be retried (failed pages only) or, when nothing came out, generated again; a
    # completed one's PDF can be rendered again (an operator's batch), which passes through ILLUSTRATING.
    B.COMPLETED: frozenset({B.ILLUSTRATING, B.FAILED}),
    B.PARTIAL: frozenset({B.ILLUSTRATING, B.FAILED}),
    B.FAILED: frozenset({B.GENERATING, B.ILLUSTRATING}),
}

M = ModerationStatus
PAGE_TRANSITIONS: dict[ModerationStatus, frozenset[ModerationStatus]] = {
    M.PENDING: frozenset({M.OK, M.FLAGGED, M.FAILED}),
    M.OK: frozenset({M.PENDING}),  # only when the whole book is generated again
    M.FLAGGED: frozenset({M.PENDING}),  # likewise: a retry never touches a flagged page
    M.FAILED: frozenset({M.PENDING}),
}


def book_transition_allowed(current: BookStatus, target: BookStatus) -> bool:
    return target in BOOK_TRANSITIONS[current]


def page_transition_allowed(current: ModerationStatus, target: ModerationStatus) -> bool:
    return target in PAGE_TRANSITIONS[current]
