"""Which book states allow which edits, and the fixed limits of a book and its photos."""

import re

from storywink.domain.enums import BookStatus

FINAL_STATUSES = frozenset({BookStatus.COMPLETED, BookStatus.PARTIAL, BookStatus.FAILED})
RUNNING_STATUSES = frozenset({BookStatus.GENERATING, BookStatus.ILLUSTRATING})

# Book details (title, tone, ...) can change until illustration starts.
DETAILS_EDITABLE = frozenset({BookStatus.DRAFT, BookStatus.STORY_READY, BookStatus.FAILED})
# Photos, their order and the cover shape the book: only before generation.
PHOTOS_EDITABLE = frozenset({BookStatus.DRAFT, BookStatus.FAILED})
# Page texts are what the parent edits between STORY_READY and illustration.
TEXT_EDITABLE = frozenset({BookStatus.DRAFT, BookStatus.STORY_READY})

TITLE_MAX = 120
NAME_MAX = 60
FREE_TEXT_MAX = 500
PAGE_TEXT_MAX = 2000

# The photo types a parent may upload (what each really is gets checked when the upload is confirmed).
SUPPORTED_UPLOAD_TYPES: frozenset[str] = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"})


# Text PostgreSQL cannot store: NUL, and UTF-16 surrogates on their own (JSON can carry both as escapes).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_text(value: str) -> str:
    """``value`` unchanged, or a ValueError (a 422) when it holds a character no text column can keep."""
    if _UNSTORABLE.search(value):
        raise ValueError("must not contain NUL characters or unpaired surrogates")
    return value
