"""Which book states allow which edits, and the fixed limits of a book and its photos."""

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
