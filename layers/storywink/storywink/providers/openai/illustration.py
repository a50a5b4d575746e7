"""The OpenAI illustrator: the Images edit API redraws the page's photo in the book's art style,
keeping its people recognisable; the picture is then enlarged to print resolution (2400 px, 300 dpi)."""

from __future__ import annotations

import base64
import binascii

import openai
from openai.types import ImagesResponse

from storywink.config import Settings
from storywink.domain.enums import ArtStyle
from storywink.providers.base import IllustrationRequest, IllustrationResult
from storywink.providers.errors import PermanentProviderError
from storywink.providers.openai.client import NAME, build_client
from storywink.providers.openai.errors import openai_errors
from storywink.providers.openai.photos import edit_input, print_png

STYLE_PROMPTS = {
    ArtStyle.WATERCOLOR: (
        "a soft watercolor painting: loose, transparent washes of colour that bleed gently at the edges, "
        "visible cold-press paper texture, delicate ink outlines, warm natural light"
    ),
    ArtStyle.CARTOON: (
        "a bright cartoon: clean bold outlines, flat vivid colours with simple cel shading, "
        "friendly rounded shapes and big expressive faces"
    ),
    ArtStyle.PENCIL_SKETCH: (
        "a hand-drawn pencil sketch: graphite on white paper, fine hatching and cross-hatching for the shading, "
        "visible pencil strokes, greyscale only with no colour"
    ),
}


class OpenAIIllustrationProvider:
    name = NAME

    def __init__(self, settings: Settings, client: openai.OpenAI | None = None) -> None:
        self._settings = settings
        self._client = client
        self._model = settings.openai_image_model

    def _openai(self) -> openai.OpenAI:
        # Built on the first call, so selecting this provider needs no key until it is used.
        if self._client is None:
            self._client = build_client(self._settings)
        return self._client

    def illustrate(self, request: IllustrationRequest) -> IllustrationResult:
        style = STYLE_PROMPTS.get(request.art_style)
        if style is None:
            raise PermanentProviderError(
                f"Unsupported art style {request.art_style!r}; supported: {', '.join(STYLE_PROMPTS)}", provider=NAME
            )
        image, size = edit_input(request.photo)
        client = self._openai()
        with openai_errors():
            response = client.images.edit(
                model=self._model,
                image=(f"{request.page_id}.png", image, "image/png"),
                prompt=prompt(request, style),
                size=size,
                output_format="png",
            )
        return IllustrationResult(image=print_png(_picture(response)), content_type="image/png", provider=NAME)


def prompt(request: IllustrationRequest, style: str) -> str:
    lines = [
        f"Redraw this photo as an illustration for a children's picture book, in the style of {style}.",
        (
            "Keep the photo's composition, poses and setting. Keep every person recognisable: the same face shape, "
            "hair, skin tone, clothes and expression, simplified the way a picture-book artist would draw them."
        ),
        "Child-friendly: warm and gentle, nothing frightening. No text, letters, signatures or watermarks.",
    ]
    if request.is_title_page:
        lines.append("This is the book's title page: a welcoming picture with calm space at the top for the title.")
    if request.illustration_notes and request.illustration_notes.strip():
        lines.append(f"Illustrator's notes: {request.illustration_notes.strip()}")
    if request.text and request.text.strip():
        lines.append(f'The page reads: "{request.text.strip()}"')
    return "\n".join(lines)


def _picture(response: ImagesResponse) -> bytes:
    encoded = response.data[0].b64_json if response.data else None
    if not encoded:
        raise PermanentProviderError("OpenAI returned no picture", provider=NAME)
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PermanentProviderError(f"OpenAI's picture is not valid base64: {exc}", provider=NAME) from exc
