"""Every enumerated value of the domain, defined once and used everywhere (API, database, workers)."""

from enum import StrEnum


class BookStatus(StrEnum):
    DRAFT = "DRAFT"
    GENERATING = "GENERATING"
    STORY_READY = "STORY_READY"
    ILLUSTRATING = "ILLUSTRATING"
    COMPLETED = "COMPLETED"
    PARTIAL = "PARTIAL"
    FAILED = "FAILED"


class ModerationStatus(StrEnum):
    PENDING = "PENDING"
    OK = "OK"
    FLAGGED = "FLAGGED"
    FAILED = "FAILED"


class Plan(StrEnum):
    FREE = "free"
    PREMIUM = "premium"


class ArtStyle(StrEnum):
    WATERCOLOR = "watercolor"
    CARTOON = "cartoon"
    PENCIL_SKETCH = "pencil-sketch"


class JobStep(StrEnum):
    STORY = "STORY"
    ILLUSTRATION = "ILLUSTRATION"
    FINALIZE = "FINALIZE"
    PDF = "PDF"


class JobStatus(StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    DEAD_LETTERED = "DEAD_LETTERED"


class UsageBucket(StrEnum):
    """What a quota or rate limit counts (usage_counters.bucket)."""

    REQUESTS = "requests"  # changes through the API (POST, PUT, PATCH, DELETE), per minute
    READS = "reads"  # reads through the API (GET), per minute
    GENERATIONS = "generations"  # generate, illustrate and retry, per day
    PHOTOS = "photos"  # photos asked to upload, per day


class ExportStatus(StrEnum):
    """An export of everything held about a user. EXPIRED is never stored: a READY export past its life reads so."""

    PENDING = "PENDING"
    BUILDING = "BUILDING"
    READY = "READY"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"


class DeletionReason(StrEnum):
    REQUESTED = "requested"  # DELETE /v1/me
    DIRECTORY = "directory"  # the account is gone from the user directory (the sweep found it)
