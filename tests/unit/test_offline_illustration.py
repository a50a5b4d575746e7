"""The offline illustrator redraws a photo in the book's art style, at print resolution."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from storywink.domain.enums import ArtStyle
from storywink.imaging.sizing import PRINT_LONG_SIDE
from storywink.providers.base import IllustrationRequest
from storywink.providers.errors import PermanentProviderError
from storywink.providers.offline.illustration import OfflineIllustrationProvider

PHOTO = Path(__file__).parents[2] / "samples" / "photos" / "03-cat.jpg"
STYLES = [style.value for style in ArtStyle]
# Mean absolute difference per channel (0-255) that two pictures must exceed to count as different.
CLEARLY_DIFFERENT = 12


def _request(style: str, page_id: str = "page-1", photo: bytes | None = None) -> IllustrationRequest:
    return IllustrationRequest(
        book_id="book-1",
        page_id=page_id,
        art_style=style,
        photo=photo if photo is not None else PHOTO.read_bytes(),
        text="Zoë met a cat.",
        illustration_notes=None,
        is_title_page=False,
    )


@pytest.fixture(scope="module")
def illustrations() -> dict[str, bytes]:
    provider = OfflineIllustrationProvider()
    return {style: provider.illustrate(_request(style)).image for style in STYLES}


def _open(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def _mean_difference(first: Image.Image, second: Image.Image) -> float:
    second = second.resize(first.size)
    return sum(ImageStat.Stat(ImageChops.difference(first, second)).mean) / 3


@pytest.mark.parametrize("style", STYLES)
def test_output_is_a_png_with_a_2400_px_long_side(illustrations, style):
    picture = Image.open(io.BytesIO(illustrations[style]))
    assert picture.format == "PNG"
    assert max(picture.size) == PRINT_LONG_SIDE


@pytest.mark.parametrize("style", STYLES)
def test_output_keeps_the_photo_aspect_ratio(illustrations, style):
    source = Image.open(PHOTO)
    picture = Image.open(io.BytesIO(illustrations[style]))
    assert picture.width / picture.height == pytest.approx(source.width / source.height, rel=0.01)


def test_result_names_its_content_type_and_provider():
    result = OfflineIllustrationProvider().illustrate(_request("cartoon"))
    assert (result.content_type, result.provider) == ("image/png", "offline")


def test_a_small_photo_is_enlarged_to_print_size():
    buffer = io.BytesIO()
    Image.open(PHOTO).convert("RGB").resize((200, 133)).save(buffer, "JPEG")
    picture = _open(OfflineIllustrationProvider().illustrate(_request("cartoon", photo=buffer.getvalue())).image)
    assert picture.size == (2400, 1596)


@pytest.mark.parametrize("style", STYLES)
def test_the_same_page_is_illustrated_identically(illustrations, style):
    again = OfflineIllustrationProvider().illustrate(_request(style)).image
    assert again == illustrations[style]


@pytest.mark.parametrize("style", STYLES)
def test_every_style_changes_the_photo(illustrations, style):
    source = Image.open(PHOTO).convert("RGB")
    assert _mean_difference(_open(illustrations[style]), source) > CLEARLY_DIFFERENT


@pytest.mark.parametrize(
    ("first", "second"),
    [("watercolor", "cartoon"), ("watercolor", "pencil-sketch"), ("cartoon", "pencil-sketch")],
)
def test_the_styles_differ_from_each_other(illustrations, first, second):
    assert _mean_difference(_open(illustrations[first]), _open(illustrations[second])) > CLEARLY_DIFFERENT


def test_pencil_sketch_is_near_greyscale(illustrations):
    red, green, blue = _open(illustrations["pencil-sketch"]).split()
    spread = ImageChops.difference(
        ImageChops.lighter(ImageChops.lighter(red, green), blue), ImageChops.darker(ImageChops.darker(red, green), blue)
    )
    assert ImageStat.Stat(spread).mean[0] < 12  # out of 255: only the paper's faint warmth


def test_cartoon_is_more_colourful_than_watercolour(illustrations):
    def saturation(style: str) -> float:
        return ImageStat.Stat(_open(illustrations[style]).convert("HSV")).mean[1]

    assert saturation("cartoon") > saturation("watercolor") > saturation("pencil-sketch")


def test_cartoon_is_painted_in_a_few_flat_colours(illustrations):
    thumbnail = _open(illustrations["cartoon"]).resize((600, 400), Image.Resampling.NEAREST)
    counts = sorted((count for count, _ in thumbnail.getcolors(maxcolors=600 * 400)), reverse=True)
    assert sum(counts[:20]) / sum(counts) > 0.8  # the rest: outline edges and sparkles


def test_watercolour_leaves_an_unpainted_paper_border(illustrations):
    picture = _open(illustrations["watercolor"])
    corner = ImageStat.Stat(picture.crop((0, 0, 40, 40))).mean
    assert min(corner) > 235


def test_a_different_page_gets_different_grain():
    provider = OfflineIllustrationProvider()
    first = provider.illustrate(_request("watercolor", page_id="page-1")).image
    second = provider.illustrate(_request("watercolor", page_id="page-2")).image
    assert first != second


def test_an_unknown_style_is_a_permanent_error():
    with pytest.raises(PermanentProviderError, match="oil-painting"):
        OfflineIllustrationProvider().illustrate(_request("oil-painting"))


def test_an_unreadable_photo_is_a_permanent_error():
    with pytest.raises(PermanentProviderError):
        OfflineIllustrationProvider().illustrate(_request("cartoon", photo=b"not a photo"))


def test_a_transparent_png_is_illustrated_on_white():
    buffer = io.BytesIO()
    Image.new("RGBA", (300, 300), (0, 0, 0, 0)).save(buffer, "PNG")
    picture = _open(OfflineIllustrationProvider().illustrate(_request("cartoon", photo=buffer.getvalue())).image)
    assert min(ImageStat.Stat(picture).mean) > 200
