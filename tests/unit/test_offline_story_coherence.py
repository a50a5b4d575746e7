"""The offline story stays coherent across a whole book: many seeded books, checked against rules.

Each book is drawn from a seed: 1 to 12 pages of sample and synthetic photos in any order, any tone
and style, with or without the optional answers. The rules are what a parent would notice: the
time of day never changes within a book, the exciting moment happens once and on the page the plan
gave it, and what a page says it shows agrees with how its photo was read. The word lists here are
the test's own, so the rules are checked on the text, not on the writer's own bookkeeping.
"""

from __future__ import annotations

import io
import random
import re
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from storywink.domain.book_details import BookDetails
from storywink.providers.base import PagePhoto, StoryRequest
from storywink.providers.offline import story
from storywink.providers.offline.photo_reading import read_photo as read_photo_uncached
from storywink.providers.offline.story import OfflineStoryProvider, plan_story

PHOTOS = Path(__file__).parents[2] / "samples" / "photos"
BOOKS = 100
_readings: dict[bytes, object] = {}


def read_photo(photo: bytes):
    """The photo reading, once per photo: the books reuse a dozen photos hundreds of times."""
    if photo not in _readings:
        _readings[photo] = read_photo_uncached(photo)
    return _readings[photo]


@pytest.fixture(scope="module", autouse=True)
def _read_each_photo_once():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(story, "read_photo", read_photo)
        yield


TIME_WORDS = {
    "day": ("morning", "sun", "sunny", "sunshine", "sunlight", "woke", "breakfast time"),
    "night": ("evening", "dusk", "night", "stars", "starry", "moon", "goodnight", "asleep", "bedtime", "sleep"),
}
FOOD_WORDS = ("yummy", "tasty", "treat", "delicious", "snack", "yum", "toast", "cocoa", "honey")
ANIMAL_WORDS = ("furry", "fur", "paws", "animal", "kitten", "puppy")
INDOOR_WORDS = ("inside", "indoors", "room")
OUTDOOR_WORDS = ("outside", "outdoors", "sky", "skies", "breeze", "fresh air")


def _photo(top, bottom, size=(400, 300)) -> bytes:
    image = Image.new("RGB", size, top)
    ImageDraw.Draw(image).rectangle((0, size[1] // 2, size[0], size[1]), fill=bottom)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def photo_pool() -> dict[str, bytes]:
    pool = {path.stem: path.read_bytes() for path in sorted(PHOTOS.glob("*.jpg"))}
    pool |= {
        "sunny-park": _photo((150, 200, 245), (110, 190, 90)),
        "dusk": _photo((40, 55, 110), (25, 45, 25)),
        "dark-room": _photo((35, 28, 22), (45, 35, 30)),
        "bright-room": _photo((235, 225, 205), (200, 180, 150), size=(300, 400)),
    }
    return pool


def _book(seed: int, pool: dict[str, bytes]) -> StoryRequest:
    rng = random.Random(seed)
    count = rng.randint(1, 12)
    names = [rng.choice(sorted(pool)) for _ in range(count)]
    with_title_page = count > 1 and rng.random() < 0.7
    pages = [PagePhoto(f"p{seed}-{i}", i, with_title_page and i == 0, pool[name]) for i, name in enumerate(names)]
    rng.shuffle(pages)  # the writer orders by page number, whatever order it is given
    optional = rng.random() < 0.8
    details = BookDetails(
        title=f"Book {seed}",
        child_name=rng.choice(["Zoë", "Sam", "さくら", "Łukasz", "Νίκος", "Алёна"]),
        art_style=rng.choice(["watercolor", "cartoon", "pencil-sketch"]),
        tone=rng.choice([None, "funny", "gentle", "adventurous", "magical"]),
        theme=rng.choice([None, "dinosaurs", "the seaside"]) if optional else None,
        key_characters=rng.choice([None, "Grandma", "Max the dog and Lily"]) if optional else None,
        special_objects=rng.choice([None, "a red balloon", "Mr Snuggles"]) if optional else None,
        excitement_element=rng.choice([None, "a rocket launch", "Finding a hidden treasure"]) if optional else None,
    )
    return StoryRequest(book_id=f"book-{seed}", details=details, pages=pages)


def _parents_words_removed(text: str, request: StoryRequest) -> str:
    """Words the parent gave (a theme of "the stars") are theirs to use; the rules judge the writer's."""
    details = request.details
    given = [details.child_name, details.theme, details.key_characters, details.special_objects, details.title]
    given += [details.excitement_element]
    for phrase in sorted((g for g in given if g), key=len, reverse=True):
        for part in re.split(r",|\band\b", phrase):
            if part.strip():
                text = re.sub(re.escape(part.strip()), " ", text, flags=re.IGNORECASE)
    return text


def _has(text: str, words) -> bool:
    return any(re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE) for word in words)


def _written(request: StoryRequest):
    result = OfflineStoryProvider().write_story(request)
    pages = sorted(request.pages, key=lambda page: page.page_number)
    return [(page, story.text) for page, story in zip(pages, result.pages, strict=True)]


@pytest.fixture(scope="module")
def books(photo_pool):
    return [(request, _written(request)) for request in (_book(seed, photo_pool) for seed in range(BOOKS))]


def test_the_time_of_day_never_changes_within_a_book(books):
    for request, pages in books:
        plan = plan_story(request)
        for page, text in pages:
            said = {
                period for period, words in TIME_WORDS.items() if _has(_parents_words_removed(text, request), words)
            }
            assert said <= {plan.period}, (request.book_id, page.page_number, plan.period, text)


def test_the_excitement_happens_once_on_the_planned_page(books):
    checked = 0
    for request, pages in books:
        plan = plan_story(request)
        story_pages = [(page, text) for page, text in pages if not page.is_title_page]
        if not story_pages:
            continue
        assert plan.roles[plan.excitement_page] in ("climax", "finale", "solo")
        excitement = request.details.excitement_element
        if not excitement:
            continue
        mentions = [i for i, (_, text) in enumerate(story_pages) if excitement.lower() in text.lower()]
        assert mentions == [plan.excitement_page], (request.book_id, [text for _, text in story_pages])
        title_texts = [text for page, text in pages if page.is_title_page]
        assert not any(excitement.lower() in text.lower() for text in title_texts)
        checked += 1
    assert checked > 20


def test_what_a_page_says_it_shows_matches_the_photo_reading(books):
    subjects_seen = set()
    for request, pages in books:
        for page, text in pages:
            traits = read_photo(page.photo)
            own = _parents_words_removed(text, request)
            where = (request.book_id, page.page_number, traits.setting, traits.subject, text)
            assert _has(own, FOOD_WORDS) == (traits.subject == "food" and not page.is_title_page), where
            assert _has(own, ANIMAL_WORDS) == (traits.subject == "animal" and not page.is_title_page), where
            if traits.setting == "indoor":
                assert not _has(own, OUTDOOR_WORDS), where
            else:
                assert not _has(own, INDOOR_WORDS), where
            if traits.setting == "night-sky" and not page.is_title_page:
                assert _has(own, ("star", "stars")), where
            subjects_seen.add(traits.subject)
    assert {"food", "animal", "person", None} <= subjects_seen


def test_the_arc_runs_from_an_opening_to_an_ending(books):
    for request, _ in books:
        roles = plan_story(request).roles
        if len(roles) > 1:
            assert roles[0] == "opening" and roles[-1] in ("ending", "finale")
            climax = next(i for i, role in enumerate(roles) if role in ("climax", "finale"))
            assert all(role in ("explore", "anticipate") for role in roles[1:climax])
            assert all(role == "afterglow" for role in roles[climax + 1 : -1])


def test_the_sample_photos_are_read_as_what_they_show(photo_pool):
    readings = {name: read_photo(photo_pool[name]) for name in photo_pool}
    assert readings["01-astronaut"].subject == "person"
    assert readings["03-cat"].subject == "animal"
    assert readings["04-breakfast"].subject == "food"
    assert readings["05-stars"].setting == "night-sky"
    assert readings["02-rocket"].setting == "outdoor" and readings["02-rocket"].subject is None
    assert readings["sunny-park"].setting == "outdoor" and readings["dark-room"].setting == "indoor"


def test_the_big_moment_goes_on_a_photo_that_suits_it_not_on_a_cup_of_coffee(photo_pool):
    """The demo's book: a rocket launch belongs under the stars, not on the breakfast table."""
    order = ["01-astronaut", "02-rocket", "03-cat", "04-breakfast", "05-stars"]
    pages = [PagePhoto(f"page-{i}", i, i == 0, photo_pool[name]) for i, name in enumerate(order)]
    details = BookDetails(
        title="さくら and the Starry Adventure",
        child_name="さくら",
        art_style="watercolor",
        theme="a trip to the stars",
        tone="adventurous",
        key_characters="Whiskers the cat",
        special_objects="a silver rocket",
        excitement_element="a rocket launch",
    )
    request = StoryRequest(book_id="demo", details=details, pages=pages)
    plan = plan_story(request)
    assert order[1:][plan.excitement_page] == "05-stars"
    texts = dict(_written(request)[1:][i] for i in range(4))
    breakfast = next(text for page, text in texts.items() if page.page_number == 3)
    assert "rocket launch" not in breakfast and _has(breakfast, FOOD_WORDS)


def test_a_book_with_a_night_sky_photo_is_an_evening_book_and_a_sunny_one_a_daytime_book(photo_pool):
    def plan_for(names):
        pages = [PagePhoto(f"page-{i}", i, False, photo_pool[name]) for i, name in enumerate(names)]
        details = BookDetails(title="T", child_name="Sam", art_style="cartoon")
        return plan_story(StoryRequest(book_id="b", details=details, pages=pages))

    assert plan_for(["sunny-park", "05-stars", "sunny-park"]).period == "night"
    assert plan_for(["sunny-park", "03-cat", "sunny-park"]).period == "day"
    assert plan_for(["dusk", "bright-room", "dark-room"]).period == "night"
