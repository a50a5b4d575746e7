"""The offline story's plan, made once per book before any page is written.

It fixes the book's time of day (from what the photos show), the arc of the story pages (opening,
exploring, build-up, the exciting moment, winding down, ending) and which page carries the
excitement: the page whose photo suits a big moment best (outside, under the stars, busy or
vivid; not a quiet table), near three quarters through. Every sentence is then checked against the
plan and its own photo, so a page never says "morning" in an evening book, "inside" under an open
sky, or "yummy" beside a cat.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from storywink.providers.offline.photo_reading import PhotoTraits

PERIODS = ("day", "night")

# Words that tie a sentence to a time of day, a setting or a subject: a template carrying one is
# used only where the book's plan and the page's photo agree with it. Whole words only.
_PERIOD_WORDS = {
    "day": ("morning", "sun", "sunny", "sunshine", "sunlight", "woke", "out of bed"),
    "night": (
        "evening", "dusk", "night", "star", "stars", "starry", "moon", "goodnight", "asleep", "sleep",
        "sleepy", "dream", "dreams", "dreaming", "bedtime", "twinkled", "twinkling",
    ),
}  # fmt: skip
_SETTING_WORDS = {
    "outdoor": ("outside", "outdoors", "sky", "skies", "breeze", "fresh air", "ground"),
    "indoor": ("inside", "indoors", "room"),
}
_SUBJECT_WORDS = {
    "food": ("yummy", "tasty", "treat", "delicious", "snack", "hungry"),
    "animal": ("furry", "fur", "paws", "animal"),
    "person": ("friendly face", "grin", "face lit up"),
}


def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(re.escape(word) for word in words) + r")\b", re.IGNORECASE)


_PERIOD_PATTERNS = {period: _pattern(words) for period, words in _PERIOD_WORDS.items()}
_SETTING_PATTERNS = {setting: _pattern(words) for setting, words in _SETTING_WORDS.items()}
_SUBJECT_PATTERNS = {subject: _pattern(words) for subject, words in _SUBJECT_WORDS.items()}


@dataclass(frozen=True)
class BookPlan:
    period: str  # "day" | "night": the whole book happens in one part of the day
    roles: tuple[str, ...]  # one per story page, in page order
    excitement_page: int | None  # index into the story pages of the page with the big moment

    def fits(self, template: str, traits: PhotoTraits) -> bool:
        """Whether a sentence template agrees with the book's time of day and the page's photo."""
        if any(pattern.search(template) for period, pattern in _PERIOD_PATTERNS.items() if period != self.period):
            return False
        setting = "indoor" if traits.setting == "indoor" else "outdoor"
        if any(pattern.search(template) for name, pattern in _SETTING_PATTERNS.items() if name != setting):
            return False
        return not any(
            pattern.search(template) for subject, pattern in _SUBJECT_PATTERNS.items() if subject != traits.subject
        )


def plan_book(story_traits: list[PhotoTraits], every_traits: list[PhotoTraits], rng: random.Random) -> BookPlan:
    """``story_traits``: the story pages' photos in order; ``every_traits``: all photos, the title page's too."""
    excitement = _excitement_page(story_traits)
    return BookPlan(
        period=_period(every_traits, rng),
        roles=tuple(_arc(len(story_traits), excitement)),
        excitement_page=excitement,
    )


def _period(traits: list[PhotoTraits], rng: random.Random) -> str:
    """Night when a photo shows the night sky or the dark photos outnumber the sunny ones outside."""
    if any(t.setting == "night-sky" for t in traits):
        return "night"
    night = sum(1 for t in traits if t.light == "dark" or (t.setting == "outdoor" and t.light != "bright"))
    day = sum(1 for t in traits if t.setting == "outdoor" and t.light == "bright")
    if night != day:
        return "night" if night > day else "day"
    return rng.choice(PERIODS)


def _excitement_page(traits: list[PhotoTraits]) -> int | None:
    count = len(traits)
    if count <= 2:
        return count - 1 if count else None
    target = round((count - 1) * 0.75)

    def score(index: int) -> tuple[float, int]:
        return _excitement_fit(traits[index]) - abs(index - target) / count, index

    return max(range(1, count), key=score)


def _excitement_fit(traits: PhotoTraits) -> int:
    fit = 2 if traits.setting in ("outdoor", "night-sky") else 0
    fit += traits.busy + (traits.vividness == "vivid")
    if traits.subject == "food":
        fit -= 2
    if traits.setting == "indoor" and not traits.busy:
        fit -= 1
    return fit


def _arc(count: int, climax: int | None) -> list[str]:
    """The role of each story page around the planned exciting moment."""
    if count == 0 or climax is None:
        return []
    if count == 1:
        return ["solo"]
    roles = ["opening"] + ["explore"] * (count - 2) + ["ending"]
    roles[climax] = "finale" if climax == count - 1 else "climax"
    if climax - 1 > 0:
        roles[climax - 1] = "anticipate"
    for index in range(climax + 1, count - 1):
        roles[index] = "afterglow"
    return roles
