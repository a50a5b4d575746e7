"""Turns the parent's free-text answers into phrases that drop cleanly into story sentences."""

from __future__ import annotations

import re
from dataclasses import dataclass

_LIST_SEPARATOR = re.compile(r"\s*(?:,|;|&|\n|\band\b)\s*", re.IGNORECASE)
_SENTENCE_START = re.compile(r"(^|(?<!\.)[.!?]\s+)([\"“]?)(\w)")
_GERUND_OR_ARTICLE = {"a", "an", "the", "some", "our", "my"}


@dataclass(frozen=True)
class ObjectPhrase:
    first: str  # first mention: "a red balloon"
    later: str  # every later mention: "the red balloon"


def clean(text: str | None) -> str | None:
    """Trim whitespace and trailing punctuation; blank means not given."""
    if text is None:
        return None
    cleaned = " ".join(text.split()).strip(" .!?;,")
    return cleaned or None


def split_list(text: str | None) -> list[str]:
    """ "Grandma, Max the dog and Lily" -> ["Grandma", "Max the dog", "Lily"]."""
    return [part for part in (clean(piece) for piece in _LIST_SEPARATOR.split(text or "")) if part]


def join_list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def possessive(name: str) -> str:
    return f"{name}'s"


def companion(raw: str, child_possessive: str) -> str:
    # The parent writes "my mum"; in the child's story that is "Zoë's mum".
    words = raw.split()
    if words[0].lower() in ("my", "our"):
        return " ".join([child_possessive, *words[1:]])
    return raw


def object_phrase(raw: str) -> ObjectPhrase:
    words = raw.split()
    head, rest = words[0].lower(), " ".join(words[1:])
    if head in ("a", "an") and rest:
        return ObjectPhrase(f"{head} {rest}", f"the {rest}")
    if head in ("my", "our") and rest:
        return ObjectPhrase(f"the {rest}", f"the {rest}")
    if head in ("the", "his", "her", "their") and rest:
        return ObjectPhrase(f"{head} {rest}", f"{head} {rest}")
    if raw[0].islower():
        return ObjectPhrase(f"the {raw}", f"the {raw}")
    # A proper name ("Mr Snuggles") or a script without letter case stays as written.
    return ObjectPhrase(raw, raw)


def join_objects(phrases: list[ObjectPhrase]) -> ObjectPhrase:
    return ObjectPhrase(join_list([p.first for p in phrases]), join_list([p.later for p in phrases]))


def event_phrase(raw: str) -> str:
    """ "Finding a hidden treasure" reads mid-sentence as "finding a hidden treasure"; names keep
    their capital ("Santa came to visit")."""
    first_word = raw.split()[0]
    if first_word.lower() in _GERUND_OR_ARTICLE or first_word.lower().endswith("ing"):
        return first_word.lower() + raw[len(first_word) :]
    return raw


def capitalise_sentences(text: str) -> str:
    return _SENTENCE_START.sub(lambda m: m.group(1) + m.group(2) + m.group(3).upper(), text)
