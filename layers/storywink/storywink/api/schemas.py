"""Request and response bodies of the REST API (camelCase on the wire, bounded everywhere)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, create_model, field_validator

from storywink.domain import rules
from storywink.domain.book_details import BookDetails
from storywink.domain.enums import BookStatus, ModerationStatus
from storywink.domain.progress import CamelModel

PageText = Annotated[str, StringConstraints(max_length=rules.PAGE_TEXT_MAX), AfterValidator(rules.storable_text)]


class StrictCamel(CamelModel):
    model_config = ConfigDict(extra="forbid")  # merged with CamelModel's by pydantic


def _all_optional(model: type[BaseModel]) -> dict[str, Any]:
    """The fields of ``model`` for a PATCH body: each may be left out, each keeps its constraints."""
    fields: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        annotation = Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation
        fields[name] = (annotation | None, None)
    return fields


class BookCreate(BookDetails, StrictCamel):
    auto_illustrate: bool = True


BookUpdate = create_model(
    "BookUpdate", __base__=StrictCamel, **_all_optional(BookDetails), auto_illustrate=(bool | None, None)
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
    pages: list[PageOut]
    created_at: datetime
    updated_at: datetime


class BookPage(CamelModel):
    items: list[BookSummary]
    next_cursor: str | None


class PhotoUploadSpec(StrictCamel):
    content_type: Annotated[str, StringConstraints(max_length=64)]
    size: int = Field(gt=0)
    filename: Annotated[str, StringConstraints(max_length=255)] | None = None


class PhotoUploadRequest(StrictCamel):
    photos: list[PhotoUploadSpec] = Field(min_length=1, max_length=50)


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
    upload_ids: list[Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]] = Field(min_length=1, max_length=50)

    @field_validator("upload_ids")
    @classmethod
    def no_duplicates(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("upload ids must be unique")
        return value


class PageUpdate(StrictCamel):
    text: PageText | None = None
    text_confirmed: bool | None = None


class PageOrder(StrictCamel):
    page_ids: list[UUID] = Field(min_length=1)


class CoverChoice(StrictCamel):
    page_id: UUID


PageOut.model_rebuild()
