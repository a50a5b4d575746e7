"""The offline story provider writes a personal, coherent, deterministic picture-book story."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from storywink.domain.book_details import BookDetails
from storywink.providers.base import PagePhoto, StoryRequest
from storywink.providers.offline.photo_reading import read_photo
from storywink.providers.offline.story import OfflineStoryProvider
from storywink.providers.offline.story_text import count_sentences

PHOTOS = Path(__file__).parents[2] / "samples" / "photos"


@pytest.fixture(scope="module")
def photos() -> dict[str, bytes]:
    return {path.stem: path.read_bytes() for path in sorted(PHOTOS.glob("*.jpg"))}


@pytest.fixture
def request_for(photos):
    def build(*, book_id: str = "book-1", pages: list[PagePhoto] | None = None, **overrides) -> StoryRequest:
        names = ["01-astronaut", "02-rocket", "03-cat", "04-breakfast", "05-stars"]
        if pages is None:
            pages = [PagePhoto(f"page-{i}", i, i == 0, photos[name]) for i, name in enumerate(names)]
        details = {
            "title": "Zoë and the Moon",
            "child_name": "Zoë",
            "art_style": "watercolor",
            "tone": "funny",
            "theme": "dinosaurs",
            "key_characters": "Grandma and Max the dog",
            "special_objects": "a red balloon",
            "excitement_element": "Finding a hidden treasure",
        }
        details.update(overrides)
        return StoryRequest(book_id=book_id, details=BookDetails(**details), pages=pages)

    return build


def _with_blank_title(request: StoryRequest, title: str = "") -> StoryRequest:
    """The API refuses a blank title; the provider still copes with one (model_copy skips validation)."""
    return replace(request, details=request.details.model_copy(update={"title": title}))


def _story_text(result) -> str:
    return " ".join(page.text for page in result.pages)


def _png(colour, size=(400, 300)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def test_every_page_gets_a_text_in_page_order(request_for):
    request = request_for()
    result = OfflineStoryProvider().write_story(request)
    assert [page.page_id for page in result.pages] == [page.page_id for page in request.pages]
    assert all(page.text.strip() for page in result.pages)


def test_every_page_gets_illustration_notes(request_for):
    result = OfflineStoryProvider().write_story(request_for())
    assert all("Palette:" in page.illustration_notes for page in result.pages)


def test_story_uses_the_child_name(request_for):
    result = OfflineStoryProvider().write_story(request_for())
    assert "Zoë" in result.pages[1].text
    assert _story_text(result).count("Zoë") >= len(result.pages)


def test_story_uses_the_theme(request_for):
    result = OfflineStoryProvider().write_story(request_for())
    assert "dinosaurs" in _story_text(result)


def test_story_mentions_every_special_object(request_for):
    result = OfflineStoryProvider().write_story(request_for(special_objects="a red balloon, Mr Snuggles"))
    text = _story_text(result)
    assert "red balloon" in text
    assert "Mr Snuggles" in text


def test_story_introduces_the_key_characters(request_for):
    result = OfflineStoryProvider().write_story(request_for())
    assert "Grandma and Max the dog" in _story_text(result)


def test_story_builds_to_the_excitement_element(request_for):
    result = OfflineStoryProvider().write_story(request_for())
    pages_with_it = [i for i, page in enumerate(result.pages) if "finding a hidden treasure" in page.text]
    assert pages_with_it, "the excitement element is never reached"
    assert min(pages_with_it) > 1, "the exciting moment should come after the opening"


def test_the_first_story_page_opens_and_the_last_page_closes(request_for):
    result = OfflineStoryProvider().write_story(request_for())
    opening, ending = result.pages[1].text, result.pages[-1].text
    assert ending.endswith("The End.")
    assert "The End" not in opening
    assert opening != ending


def test_a_title_page_gets_a_short_opening_line(request_for):
    title_page = OfflineStoryProvider().write_story(request_for()).pages[0]
    assert "Zoë" in title_page.text
    assert len(title_page.text.split()) <= 16


def test_pages_have_one_to_three_sentences(request_for, photos):
    pages = [PagePhoto(f"page-{i}", i, i == 0, list(photos.values())[i % 5]) for i in range(20)]
    result = OfflineStoryProvider().write_story(request_for(pages=pages, special_objects="a kite, a drum, a hat"))
    for page in result.pages:
        assert 1 <= count_sentences(page.text.removesuffix(" The End.")) <= 3, page.text


def test_same_request_writes_the_same_story(request_for):
    first = OfflineStoryProvider().write_story(request_for())
    second = OfflineStoryProvider().write_story(request_for())
    assert first == second


def test_a_different_book_gets_a_different_story(request_for):
    first = OfflineStoryProvider().write_story(request_for(book_id="book-1"))
    second = OfflineStoryProvider().write_story(request_for(book_id="book-2"))
    assert _story_text(first) != _story_text(second)


def test_tone_changes_the_wording(request_for):
    funny = OfflineStoryProvider().write_story(request_for(tone="funny"))
    gentle = OfflineStoryProvider().write_story(request_for(tone="gentle"))
    assert _story_text(funny) != _story_text(gentle)


def test_a_starry_photo_is_described_as_a_night_sky(request_for, photos):
    pages = [
        PagePhoto(f"p{i}", i, False, photos[name]) for i, name in enumerate(["03-cat", "05-stars", "04-breakfast"])
    ]
    result = OfflineStoryProvider().write_story(request_for(pages=pages))
    assert "star" in result.pages[1].text.lower()
    assert "starry night sky" in result.pages[1].illustration_notes


def test_a_dark_starry_photo_and_a_bright_photo_read_differently(photos):
    starry = read_photo(photos["05-stars"])
    bright = read_photo(_png((120, 190, 250)))
    assert (starry.setting, starry.light) == ("night-sky", "dark")
    assert bright.light == "bright" and bright.setting == "outdoor"
    assert starry.colours != bright.colours


def test_photo_colours_get_child_friendly_names(photos):
    assert "warm orange" in read_photo(photos["01-astronaut"]).colours
    assert read_photo(_png((20, 40, 140))).colours == ("deep blue",)


def test_photo_orientation_is_read(photos):
    assert read_photo(_png("white", (300, 500))).orientation == "portrait"
    assert read_photo(photos["02-rocket"]).orientation == "landscape"


def test_a_pencil_sketch_book_names_no_colours(request_for):
    result = OfflineStoryProvider().write_story(request_for(art_style="pencil-sketch"))
    assert not re.search(r"warm orange|deep blue|chocolate brown|deep red", _story_text(result))


@pytest.mark.parametrize("name", ["Zoë", "Łukasz", "さくら"])
def test_non_ascii_names_are_written_as_given(request_for, name):
    result = OfflineStoryProvider().write_story(_with_blank_title(request_for(child_name=name)))
    assert name in _story_text(result)
    assert name in result.title


def test_a_story_without_optional_details_still_has_every_page(request_for):
    request = request_for(tone=None, theme=None, key_characters=None, special_objects=None, excitement_element=None)
    result = OfflineStoryProvider().write_story(request)
    assert len(result.pages) == len(request.pages)
    assert all(page.text and "None" not in page.text for page in result.pages)


def test_a_one_page_book_is_a_whole_story(request_for, photos):
    result = OfflineStoryProvider().write_story(request_for(pages=[PagePhoto("only", 1, False, photos["03-cat"])]))
    text = result.pages[0].text
    assert "Zoë" in text and text.endswith("The End.")


def test_pages_are_written_in_page_number_order_whatever_the_list_order(request_for):
    request = request_for()
    shuffled = replace(request, pages=list(reversed(request.pages)))
    assert OfflineStoryProvider().write_story(shuffled).pages[0].page_id == "page-0"


def test_token_usage_is_estimated(request_for):
    result = OfflineStoryProvider().write_story(request_for())
    words = sum(len(page.text.split()) for page in result.pages)
    assert result.prompt_tokens > 0
    assert words < result.completion_tokens < words * 2
    assert result.provider == "offline"


def test_the_given_title_is_kept_and_a_blank_one_is_made_up(request_for):
    assert OfflineStoryProvider().write_story(request_for()).title == "Zoë and the Moon"
    assert "Zoë" in OfflineStoryProvider().write_story(_with_blank_title(request_for(), "  ")).title
