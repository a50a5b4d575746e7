"""Request and response bodies of the REST API (camelCase on the wire, bounded everywhere)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    create_model,
    field_validator,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from storywink.config import Settings
from storywink.domain import rules
from storywink.domain.book_details import BookDetails
from storywink.domain.enums import BookStatus, ModerationStatus, Plan
from storywink.domain.progress import CamelModel
from storywink.realtime.frames import EventFrame, SnapshotFrame


def _json_integer(value: Any) -> Any:
    """JSON Schema's integer: 5 and 5.0, never "5" or true (which lax pydantic would read as 5 and 1)."""
    if isinstance(value, str | bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


JsonInt = Annotated[int, BeforeValidator(_json_integer)]
PageText = Annotated[str, StringConstraints(max_length=rules.PAGE_TEXT_MAX), AfterValidator(rules.storable_text)]


class StrictCamel(CamelModel):
    model_config = ConfigDict(extra="forbid")  # merged with CamelModel's by pydantic



# The document is generated from the default settings: these are the limits a deployment starts with.
DEFAULT_MAX_PAGES: int = Settings.model_fields["max_pages"].default
DEFAULT_MAX_PHOTO_BYTES: int = Settings.model_fields["max_photo_bytes"].default
# Some constraints are written into the schema only: the server checks them itself, with its own status and
# code (a photo of another type is a 415 UNSUPPORTED_IMAGE_TYPE, not a schema 422), and the document says so.
NOT_EMPTY = {"minProperties": 1}  # an empty PATCH is a 400 EMPTY_UPDATE


class ValidationIssue(BaseModel):
    """One reason a request is not valid (a 422 VALIDATION_FAILED lists them all)."""

    field: str = Field(description="Where, dotted: `body.photos.0.size`, `query.limit`, `path.book_id`")
    message: str
    type: str | None = Field(description="The validator's error type: `missing`, `string_too_long`, ...")


class QuotaDetails(CamelModel):
    """What a 429 RATE_LIMITED (changes a minute) or QUOTA_EXCEEDED (generations, photos a day) says."""

    limit: int
    used: int
    resets_at: datetime
    plan: Plan


class StreamLimitDetails(BaseModel):
    """What a 429 TOO_MANY_STREAMS says: the most streams one user may hold open, and how many are open."""

    limit: int
    open: int


class ErrorBody(CamelModel):
    code: str = Field(description="Stable and machine-readable: `BOOK_NOT_FOUND`, `VALIDATION_FAILED`, ...")
    message: str = Field(description="For people; may change")
    request_id: str = Field(description="Also in the X-Request-Id header: quote it when reporting a problem")
    details: list[ValidationIssue] | QuotaDetails | StreamLimitDetails | dict[str, Any] | SkipJsonSchema[None] = Field(
        None, description="Present when the error has more to say: the validation issues, the quota, ..."
    )


class ErrorResponse(BaseModel):
    """Every error, whatever its status: `{"error": {code, message, requestId, details?}}`."""

    error: ErrorBody


def _unset_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def omissible() -> Any:
    """A PATCH field that may be left out but not cleared: null is not one of its values (a 422), and the
    schema shows no `default: null` for a client or a fuzzer to send."""
    return Field(None, json_schema_extra=_unset_default)


def _all_optional(model: type[BaseModel]) -> dict[str, Any]:
    """The fields of ``model`` for a PATCH body: each may be left out, each keeps its constraints; null
    clears a field that may be empty and is not a value of one that may not."""
    fields: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        annotation = Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation
        fields[name] = (annotation | None, None) if field.default is None else (annotation, omissible())
    return fields


class BookCreate(BookDetails, StrictCamel):
    # Request booleans are StrictBool: lax pydantic reads 0 and "true" as booleans, which the schema does not.
    auto_illustrate: StrictBool = True


class _StrictPatch(StrictCamel):
    model_config = ConfigDict(json_schema_extra=NOT_EMPTY)


BookUpdate = create_model(
    "BookUpdate", __base__=_StrictPatch, **_all_optional(BookDetails), auto_illustrate=(StrictBool, omissible())
)


class PageOut(CamelModel):
    id: UUID
    page_number: int
    is_title_page: bool
    text: str | None
    text_confirmed: bool
    illustration_notes: str | None
    moderation_status: ModerationStatus
    moderation_reason: str | None
    photo: AssetOut
    photo_url: str
    thumbnail_url: str
    illustration_url: str | None


class AssetOut(CamelModel):
    id: UUID
    content_type: str
    size_bytes: int
    width: int
    height: int


class BookSummary(CamelModel):
    id: UUID
    title: str
    child_name: str
    status: BookStatus
    page_length: int
    cover_thumbnail_url: str | None
    created_at: datetime
    updated_at: datetime


class BookOut(BookDetails):
    # A response has every field, defaults included: the schema says so, for generated clients.
    model_config = ConfigDict(**BookDetails.model_config, json_schema_serialization_defaults_required=True)

    id: UUID
    auto_illustrate: bool
    status: BookStatus
    status_reason: str | None
    page_length: int
    max_pages: int
    cover_asset_id: UUID | None
    prompt_tokens: int
    completion_tokens: int
    has_pdf: bool
    scheduled_start_at: datetime | None = Field(
        description="When the generation scheduled for later starts (POST /generate with startAt); null when none is"
    )
    pages: list[PageOut]
    created_at: datetime
    updated_at: datetime


class BookPage(CamelModel):
    items: list[BookSummary]
    next_cursor: str | None


class PhotoUploadSpec(StrictCamel):
    # Type and size are the service's to refuse (415 UNSUPPORTED_IMAGE_TYPE, 413 PHOTO_TOO_LARGE): schema only.
    content_type: Annotated[str, StringConstraints(max_length=64)] = Field(
        json_schema_extra={"enum": sorted(rules.SUPPORTED_UPLOAD_TYPES)}
    )
    size: JsonInt = Field(gt=0, json_schema_extra={"maximum": DEFAULT_MAX_PHOTO_BYTES})
    filename: Annotated[str, StringConstraints(max_length=255)] | None = None


class PhotoUploadRequest(StrictCamel):
    # More photos than a book holds is the service's 422 PAGE_LIMIT_EXCEEDED: the schema says MAX_PAGES.
    photos: list[PhotoUploadSpec] = Field(min_length=1, max_length=50, json_schema_extra={"maxItems": DEFAULT_MAX_PAGES})


class PhotoUploadTicket(CamelModel):
    upload_id: str
    url: str
    method: str = "PUT"
    headers: dict[str, str]
    expires_at: datetime
    filename: str | None = None


class PhotoUploadResponse(CamelModel):
    uploads: list[PhotoUploadTicket]


class PhotoConfirmRequest(StrictCamel):
    upload_ids: list[Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]] = Field(
        min_length=1, max_length=50, json_schema_extra={"uniqueItems": True}
    )

    @field_validator("upload_ids")
    @classmethod
    def no_duplicates(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("upload ids must be unique")
        return value


class PageUpdate(_StrictPatch):
    text: PageText = omissible()
    text_confirmed: StrictBool = omissible()


class PageOrder(StrictCamel):
    # Each page once: the service's 422 PAGE_SET_MISMATCH, which the schema repeats.
    page_ids: list[UUID] = Field(min_length=1, json_schema_extra={"uniqueItems": True})


class CoverChoice(StrictCamel):
    page_id: UUID


# Models the document holds for what FastAPI cannot attach to a route itself (the SSE payloads).
DOCUMENTED_ONLY: tuple[type[BaseModel], ...] = (SnapshotFrame, EventFrame)


PageOut.model_rebuild()
