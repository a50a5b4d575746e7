"""The OpenAI story writer: one Chat Completions call with a vision model that sees every page's
photo and answers strict JSON (a schema whose page ids are the book's own), validated before use."""

from __future__ import annotations

from collections import Counter
from typing import Any

import openai
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from storywink.config import Settings
from storywink.providers.base import PagePhoto, PageStory, StoryRequest, StoryResult
from storywink.providers.errors import ContentPolicyError, PermanentProviderError
from storywink.providers.openai.client import NAME, build_client
from storywink.providers.openai.errors import openai_errors
from storywink.providers.openai.photos import story_photo_url

SYSTEM_PROMPT = """\
You are a warm, skilled author of children's picture books for ages 3 to 7. A parent has shared \
photos of their child; each photo is one page of a personalised book, in the order given.

Write the book:
- For every page write its text: one to three short, simple sentences a parent reads aloud. Describe \
what that page's photo shows (the place, the light, what the child is doing) so words and picture match.
- The child is the hero: use their name often. Follow the theme and the tone. Bring in the key \
characters and special objects where the photos allow, and build to the exciting moment about three \
quarters of the way through; end warmly.
- A title page gets one welcoming line, not story.
- Keep everything gentle, kind and suitable for young children. Never invent real people's names.
- Write the texts in the language of the parent's details (English if unclear).
- For every page also write illustrationNotes in English for the illustrator who will redraw the photo \
in the book's art style: what to show and emphasise, the setting, the mood, the composition, and which \
characters or objects from the text to include.
- title: a short book title; keep the parent's title when one is given.

Answer only with the JSON the schema describes, one entry per page id, each page id exactly once."""

_BOOK_DETAILS = (
    ("Title", "title"),
    ("Child's name", "child_name"),
    ("Theme", "theme"),
    ("Tone", "tone"),
    ("Key characters", "key_characters"),
    ("Special objects", "special_objects"),
    ("Exciting moment", "excitement_element"),
    ("Art style", "art_style"),
)


class _PageJson(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)
    page_id: str = Field(alias="pageId")
    text: str = Field(min_length=1)
    illustration_notes: str = Field("", alias="illustrationNotes")


class _StoryJson(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)
    title: str
    pages: list[_PageJson]


class OpenAIStoryProvider:
    name = NAME

    def __init__(self, settings: Settings, client: openai.OpenAI | None = None) -> None:
        self._settings = settings
        self._client = client
        self._model = settings.openai_story_model

    def _openai(self) -> openai.OpenAI:
        # Built on the first call, so selecting this provider needs no key until it is used.
        if self._client is None:
            self._client = build_client(self._settings)
        return self._client

    def write_story(self, request: StoryRequest) -> StoryResult:
        pages = sorted(request.pages, key=lambda page: page.page_number)
        page_ids = [page.page_id for page in pages]
        messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": _user_content(request, pages)},
        ]
        client = self._openai()
        with openai_errors():
            completion = client.chat.completions.create(
                model=self._model,
                messages=messages,  # type: ignore[arg-type]
                response_format=response_format(page_ids),  # type: ignore[arg-type]
            )
        story = _parse(completion)
        written = _by_page(story, page_ids)
        usage = completion.usage
        return StoryResult(
            pages=[PageStory(id_, written[id_].text, written[id_].illustration_notes) for id_ in page_ids],
            title=request.details.title.strip() or story.title,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            provider=NAME,
        )


def response_format(page_ids: list[str]) -> dict[str, Any]:
    """Strict structured output; the page ids are an enum, so the model cannot invent one."""
    page = {
        "type": "object",
        "properties": {
            "pageId": {"type": "string", "enum": page_ids},
            "text": {"type": "string"},
            "illustrationNotes": {"type": "string"},
        },
        "required": ["pageId", "text", "illustrationNotes"],
        "additionalProperties": False,
    }
    schema = {
        "type": "object",
        "properties": {"title": {"type": "string"}, "pages": {"type": "array", "items": page}},
        "required": ["title", "pages"],
        "additionalProperties": False,
    }
    return {"type": "json_schema", "json_schema": {"name": "picture_book_story", "strict": True, "schema": schema}}


def _user_content(request: StoryRequest, pages: list[PagePhoto]) -> list[dict[str, Any]]:
    details = request.details
    lines = [f"{label}: {value.strip()}" for label, field in _BOOK_DETAILS if (value := getattr(details, field))]
    content: list[dict[str, Any]] = [
        {"type": "text", "text": "The book:\n" + "\n".join(lines) + f"\n\nPages: {len(pages)}, in order."}
    ]
    for page in pages:
        kind = " (title page)" if page.is_title_page else ""
        content.append({"type": "text", "text": f"Page {page.page_number}{kind}, pageId {page.page_id}:"})
        # "low" detail: a 512 px view reads the scene well and costs a fixed, small number of tokens.
        content.append({"type": "image_url", "image_url": {"url": story_photo_url(page.photo), "detail": "low"}})
    return content


def _parse(completion: ChatCompletion) -> _StoryJson:
    if not completion.choices:
        raise PermanentProviderError("OpenAI returned no story", provider=NAME)
    choice = completion.choices[0]
    if choice.message.refusal:
        raise ContentPolicyError(f"OpenAI refused to write the story: {choice.message.refusal}", provider=NAME)
    if choice.finish_reason == "content_filter":
        raise ContentPolicyError("OpenAI's content filter stopped the story", provider=NAME)
    if choice.finish_reason == "length":
        raise PermanentProviderError("OpenAI's story was cut off before it was complete", provider=NAME)
    try:
        return _StoryJson.model_validate_json(choice.message.content or "")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise PermanentProviderError(
            f"OpenAI's story is not the JSON asked for ({exc.error_count()} problem(s); {where}: {first['msg']})",
            provider=NAME,
        ) from exc


def _by_page(story: _StoryJson, page_ids: list[str]) -> dict[str, _PageJson]:
    counts = Counter(page.page_id for page in story.pages)
    missing = [page_id for page_id in page_ids if page_id not in counts]
    repeated = [page_id for page_id, count in counts.items() if count > 1]
    known = set(page_ids)
    unknown = [page_id for page_id in counts if page_id not in known]
    if missing or repeated or unknown:
        problems = {"missing": missing, "repeated": repeated, "unknown": unknown}
        found = "; ".join(f"{name}: {', '.join(ids)}" for name, ids in problems.items() if ids)
        raise PermanentProviderError(f"OpenAI's story does not have every page exactly once ({found})", provider=NAME)
    return {page.page_id: page for page in story.pages}
