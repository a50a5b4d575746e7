"""The offline story writer: a personalised picture-book story from templates and photo traits.

The book is planned once (story_plan: its time of day, the arc from opening through the exciting
moment to a warm ending, and the page that carries the excitement); every page then describes its
own photo and carries its part of the arc, using only sentences that agree with the plan and the
photo. Choices come from a random generator seeded with the book's inputs, so the same book always
gets the same story and two books get different ones.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from functools import partial

from storywink.domain.enums import ArtStyle
from storywink.providers.base import PagePhoto, PageStory, StoryRequest, StoryResult
from storywink.providers.offline import story_lines as lines
from storywink.providers.offline.photo_reading import PhotoTraits, read_photo
from storywink.providers.offline.story_phrases import (
    ObjectPhrase,
    capitalise_sentences,
    clean,
    companion,
    event_phrase,
    join_list,
    join_objects,
    object_phrase,
    possessive,
    split_list,
)
from storywink.providers.offline.story_plan import BookPlan, plan_book
from storywink.providers.offline.story_text import Writer, count_sentences

NAME = "offline"

# Usage is estimated as a hosted model would count it, so quotas and job history work offline.
_TOKENS_PER_WORD = 1.3
_TOKENS_PER_PHOTO = 85
_PROMPT_OVERHEAD_WORDS = 180
_PARENT_ANSWERS = ("title", "child_name", "tone", "theme", "key_characters", "special_objects", "excitement_element")

_TONE_WORDS = {
    "funny": ("funny", "silly", "humo", "playful", "goofy", "giggl", "comic", "hilarious", "cheeky"),
    "gentle": ("gentle", "calm", "sooth", "bedtime", "sleep", "cosy", "cozy", "sweet", "soft", "quiet", "peace"),
    "adventurous": ("adventur", "excit", "brave", "bold", "daring", "action", "epic", "thrill", "hero"),
    "magical": ("magic", "whimsical", "dream", "fantasy", "fairy", "enchant", "wonder"),
}
_MOODS = {
    "funny": "playful and funny, big expressions",
    "gentle": "gentle and cosy, soft light",
    "adventurous": "bold and adventurous, a sense of movement",
    "magical": "magical and wondrous, a little sparkle",
    "warm": "warm and happy",
}

MAX_SENTENCES = 3  # per page, for ages 3-7
# Display order per role; "beat" (a key character or special object) is added where planned.
_PLANS: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "solo": ("opening", "scene", "climax"),
    "opening": ("opening", "scene"),
    "explore": ("scene", "explore"),
    "anticipate": ("scene", "anticipate"),
    "climax": ("scene", "climax", "reaction"),
    "afterglow": ("scene", "afterglow"),
    "ending": ("scene", "ending"),
    "finale": ("scene", "climax", "ending"),
}
# Which piece gets its sentences first when a page is full.
_PRIORITY = ("title", "climax", "opening", "ending", "anticipate", "beat", "reaction", "explore", "afterglow", "scene")

_SETTING_WORDS = {"night-sky": "a starry night sky", "outdoor": "outdoors", "indoor": "indoors"}
_PERIOD_NOTES = {"day": "daytime", "night": "evening or night"}
_NEUTRAL_COLOURS = ("black", "grey", "white")


@dataclass
class _Book:
    """Everything the sentences can refer to, plus what has been said so far."""

    name: str
    tone: str
    theme: str | None
    friends: list[str]
    objects: list[ObjectPhrase]
    excitement: str | None
    in_colour: bool  # a pencil-sketch book has grey pictures, so its text names no colours
    plan: BookPlan
    friends_introduced: bool = False
    mentioned_objects: set[int] = field(default_factory=set)


class OfflineStoryProvider:
    name = NAME

    def write_story(self, request: StoryRequest) -> StoryResult:
        pages, traits, rng, plan = _planned(request)
        story_pages = [page for page in pages if not page.is_title_page]
        book = _book(request, plan)
        writer = Writer(rng, book.tone)
        roles = dict(zip((p.page_id for p in story_pages), plan.roles, strict=True))
        beats = _beats(book, list(plan.roles))
        beat_by_page = {story_pages[i].page_id: beat for i, beat in beats.items()}

        written = []
        for page in pages:
            page_traits = traits[page.page_id]
            role = "title" if page.is_title_page else roles[page.page_id]
            text, shown = _write_page(writer, book, role, page_traits, beat_by_page.get(page.page_id))
            notes = _illustration_notes(book, role, page_traits, request.details.art_style, shown)
            written.append(PageStory(page_id=page.page_id, text=text, illustration_notes=notes))

        title = request.details.title.strip() or _default_title(book)
        return StoryResult(
            pages=written,
            title=title,
            prompt_tokens=_prompt_tokens(request),
            completion_tokens=_estimate_tokens(" ".join([title, *(p.text for p in written)])),
            provider=NAME,
        )


def plan_story(request: StoryRequest) -> BookPlan:
    """The plan write_story follows for this request (the same seed, so the same plan)."""
    return _planned(request)[3]


def _planned(request: StoryRequest) -> tuple[list[PagePhoto], dict[str, PhotoTraits], random.Random, BookPlan]:
    """The pages in order, each photo's reading, the book's random generator and the plan drawn from it."""
    pages = sorted(request.pages, key=lambda page: page.page_number)
    traits = {page.page_id: read_photo(page.photo) for page in pages}
    rng = random.Random(_seed(request))
    story = [traits[page.page_id] for page in pages if not page.is_title_page]
    return pages, traits, rng, plan_book(story, list(traits.values()), rng)


def _book(request: StoryRequest, plan: BookPlan) -> _Book:
    details = request.details
    name = clean(details.child_name) or "our little hero"
    excitement = clean(details.excitement_element)
    return _Book(
        name=name,
        tone=_tone(details.tone),
        theme=clean(details.theme),
        friends=[companion(raw, possessive(name)) for raw in split_list(details.key_characters)],
        objects=[object_phrase(raw) for raw in split_list(details.special_objects)],
        excitement=event_phrase(excitement) if excitement else None,
        in_colour=details.art_style != ArtStyle.PENCIL_SKETCH,
        plan=plan,
    )


def _tone(tone: str | None) -> str:
    lowered = (tone or "").lower()
    for key, words in _TONE_WORDS.items():
        if any(word in lowered for word in words):
            return key
    return "warm"


def _seed(request: StoryRequest) -> int:
    digest = hashlib.sha256()
    answers = (getattr(request.details, field_name) for field_name in _PARENT_ANSWERS)
    for value in (request.book_id, request.details.art_style, *answers):
        digest.update((value or "").encode() + b"\x00")
    for page in request.pages:
        digest.update(f"{page.page_id}:{page.page_number}:{page.is_title_page}".encode())
        digest.update(hashlib.sha256(page.photo).digest())
    return int.from_bytes(digest.digest()[:8], "big")


def _beats(book: _Book, roles: list[str]) -> dict[int, tuple[str, int | None]]:
    """Spreads the key characters and special objects over the pages that have room for them.

    A beat is ("friends", None) or ("object", index into book.objects). On exploring and
    winding-down pages a beat takes the place of the page's own action line, keeping pages
    short; the build-up page is used only when a short book has no other room. Too few pages:
    the objects are merged into one mention.
    """
    beats: list[tuple[str, int | None]] = [("friends", None)] if book.friends else []
    beats += [("object", index) for index in range(len(book.objects))]
    slots = [i for i, role in enumerate(roles) if role in ("opening", "explore", "afterglow")]
    if len(slots) < len(beats):
        slots = sorted(slots + [i for i, role in enumerate(roles) if role == "anticipate"])
    if not beats or not slots:
        return {}
    if len(beats) > len(slots) and len(book.objects) > 1:
        book.objects[:] = [join_objects(book.objects)]
        beats = [beat for beat in beats if beat[0] == "friends"] + [("object", 0)]
    beats = beats[: len(slots)]
    return {slots[j * len(slots) // len(beats)]: beat for j, beat in enumerate(beats)}


def _write_page(writer: Writer, book: _Book, role: str, traits: PhotoTraits, beat) -> tuple[str, list[str]]:
    """Returns the page text and what the illustration should show besides the child.

    The pieces are written in order of importance, each leaving at least one sentence for the
    pieces still to come, so a page never exceeds MAX_SENTENCES and the photo's scene (least
    important) always gets the last one. "The End." is a book convention, not counted.
    """
    pieces = list(_PLANS[role])
    if beat is not None:
        # On exploring pages the character or object beat is the page's action.
        pieces = [("beat" if piece in ("explore", "afterglow") else piece) for piece in pieces]
        if "beat" not in pieces:
            pieces.append("beat")
    slots = _slots(book, traits)
    fits = partial(book.plan.fits, traits=traits)
    shown: list[str] = []
    written: dict[str, str | None] = {}
    used = 0
    for rank, piece in enumerate(sorted(pieces, key=_PRIORITY.index)):
        budget = MAX_SENTENCES - used - (len(pieces) - rank - 1)
        if piece == "beat":
            text = _beat_sentence(writer, book, beat, slots, shown, budget, fits)
        else:
            text = writer.pick(_pool(piece, book, traits), slots, max_sentences=budget, fits=fits)
        written[piece] = text
        used += count_sentences(text or "")
    if role in ("ending", "finale", "solo"):
        written["the_end"] = "The End."
        pieces.append("the_end")
    text = " ".join(written[piece] for piece in pieces if written.get(piece))
    return capitalise_sentences(text), shown


def _pool(piece: str, book: _Book, traits: PhotoTraits) -> lines.Pool:
    if piece == "scene":
        return _scene_pool(traits)
    if piece == "climax":
        return lines.CLIMAX if book.excitement else lines.CLIMAX_WITHOUT_EXCITEMENT
    return {
        "title": lines.TITLE,
        "opening": lines.OPENING,
        "explore": lines.EXPLORE,
        "anticipate": lines.ANTICIPATE,
        "reaction": lines.REACTION,
        "afterglow": lines.AFTERGLOW,
        "ending": lines.ENDING,
    }[piece]


def _beat_sentence(writer: Writer, book: _Book, beat, slots: dict, shown: list[str], budget: int, fits) -> str | None:
    kind, index = beat
    if kind == "friends":
        book.friends_introduced = True
        shown.append(join_list(book.friends))
        return writer.pick(lines.COMPANIONS, {**slots, **_friend_slots(book, writer)}, max_sentences=budget, fits=fits)
    phrase = book.objects[index]
    mention = phrase.later if index in book.mentioned_objects else phrase.first
    book.mentioned_objects.add(index)
    shown.append(phrase.later)
    object_slots = {**slots, "object": mention, "the_object": phrase.later}
    return writer.pick(lines.OBJECT, object_slots, max_sentences=budget, fits=fits)


def _slots(book: _Book, traits: PhotoTraits) -> dict[str, str | None]:
    colour, colour2 = _colours(traits) if book.in_colour else (None, None)
    slots = {
        "name": book.name,
        "name_s": possessive(book.name),
        "theme": book.theme,
        "excitement": book.excitement,
        "colour": colour,
        "colour2": colour2,
        "friends": None,
        "friend": None,
        "object": None,
        "the_object": book.objects[min(book.mentioned_objects)].later if book.mentioned_objects else None,
    }
    if book.friends_introduced:
        slots.update(friends=join_list(book.friends), friend=book.friends[0])
    return slots


def _friend_slots(book: _Book, writer: Writer) -> dict[str, str]:
    return {"friends": join_list(book.friends), "friend": writer.choice(book.friends)}


def _colours(traits: PhotoTraits) -> tuple[str, str | None]:
    # Lead with a colour a child would point at: "warm orange" before "charcoal grey".
    ordered = sorted(traits.colours, key=lambda name: name.endswith(_NEUTRAL_COLOURS))
    if traits.setting == "night-sky":
        ordered = list(traits.colours)
    return ordered[0], ordered[1] if len(ordered) > 1 else None


def _scene_pool(traits: PhotoTraits) -> lines.Pool:
    if traits.subject is not None:
        return lines.SCENE_SUBJECT[traits.subject]  # what the photo shows, before where it was taken
    if traits.setting == "night-sky":
        return lines.SCENE_NIGHT_SKY  # only star lines, so a starry photo always reads as one
    if traits.setting == "outdoor":
        base = lines.SCENE_OUTDOOR_BRIGHT if traits.light == "bright" else lines.SCENE_OUTDOOR_DIM
    else:
        base = {
            "bright": lines.SCENE_INDOOR_BRIGHT,
            "soft": lines.SCENE_INDOOR_SOFT,
            "dark": lines.SCENE_INDOOR_DARK,
        }[traits.light]
    extras = lines.SCENE_BUSY if traits.busy else lines.SCENE_CALM
    if traits.warmth == "warm":
        extras += lines.SCENE_WARM
    elif traits.warmth == "cool":
        extras += lines.SCENE_COOL
    if traits.vividness == "vivid":
        extras += lines.SCENE_VIVID
    elif traits.vividness == "muted":
        extras += lines.SCENE_MUTED
    return {"base": base["base"] + extras}


def _illustration_notes(book: _Book, role: str, traits: PhotoTraits, art_style: str, shown: list[str]) -> str:
    focus = {
        "title": f"Title page: a welcoming portrait of {book.name}, leaving calm space for the title.",
        "solo": f"The whole story in one picture: {book.name}, happy and clearly the hero.",
        "opening": f"Opening page: introduce {book.name}, clearly recognisable from the photo.",
        "explore": f"Show {book.name} exploring and curious; keep the photo's composition.",
        "anticipate": "Build anticipation: a hint that something exciting is about to happen.",
        "climax": f"The big moment{f' ({book.excitement})' if book.excitement else ''}: "
        "the most dynamic, joyful picture in the book.",
        "afterglow": f"Winding down: {book.name} relaxed and smiling.",
        "ending": "Closing page: calm, warm and cosy.",
        "finale": f"The big moment and a happy ending for {book.name}.",
    }[role]
    notes = [
        focus,
        f"Setting: {_SETTING_WORDS[traits.setting]}, {traits.light} light, {traits.orientation} framing.",
        f"Time of day: {_PERIOD_NOTES[book.plan.period]}, as on every page of this book.",
        f"Palette: {', '.join(traits.colours)}.",
        f"Mood: {_MOODS[book.tone]}.",
        f"Style: {art_style}.",
    ]
    if shown:
        notes.insert(1, f"Include {join_list(shown)}.")
    if traits.busy:
        notes.append("Simplify the busy background so the main subject stands out.")
    return " ".join(notes)


def _default_title(book: _Book) -> str:
    if book.theme:
        return f"{book.name} and the Big {book.theme[0].upper()}{book.theme[1:]} Adventure"
    return f"{possessive(book.name)} Big Adventure"


def _estimate_tokens(text: str) -> int:
    return round(len(text.split()) * _TOKENS_PER_WORD)


def _prompt_tokens(request: StoryRequest) -> int:
    answers = (getattr(request.details, field_name) or "" for field_name in _PARENT_ANSWERS)
    words = _PROMPT_OVERHEAD_WORDS + sum(len(answer.split()) for answer in answers)
    return round(words * _TOKENS_PER_WORD) + _TOKENS_PER_PHOTO * len(request.pages)
