"""BookDetails: what a parent tells us about their book, the one definition the API, the database
mapping and the story providers share (camelCase on the wire, bounded everywhere)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from storywink.domain import rules
from storywink.domain.enums import ArtStyle
from storywink.domain.progress import CamelModel

Storable = AfterValidator(rules.storable_text)  # no NUL, no lone surrogate: a 422, not a database error
# Stripped, then at least one character: `pattern` says "not blank" to the schema (a no-op once stripped).
NotBlank = StringConstraints(strip_whitespace=True, min_length=1, pattern=r"\S")
Title = Annotated[str, NotBlank, StringConstraints(max_length=rules.TITLE_MAX), Storable]
Name = Annotated[str, NotBlank, StringConstraints(max_length=rules.NAME_MAX), Storable]
FreeText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=rules.FREE_TEXT_MAX), Storable]


class BookDetails(CamelModel):
    title: Title
    child_name: Name
    art_style: ArtStyle = ArtStyle.WATERCOLOR
    tone: FreeText | None = None
    theme: FreeText | None = None
    key_characters: FreeText | None = None
    special_objects: FreeText | None = None
    excitement_element: FreeText | None = None
