"""Picks and fills sentence templates without repeating one within a book."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from string import Formatter

from storywink.providers.offline.story_lines import Pool

# How often a tone's own lines win over the lines that fit every tone: often enough that a
# funny book sounds funny, not always, so it does not become a string of jokes.
_TONE_PREFERENCE = 0.65
# A sentence ends at ! ? or a single full stop (an ellipsis pauses, it does not end one),
# possibly inside a closing quote.
_SENTENCE_END = re.compile(r"(?:[!?]+|(?<!\.)\.(?!\.))[\"”]?(?=\s|$)")


def count_sentences(text: str) -> int:
    return len(_SENTENCE_END.findall(text))


class Writer:
    def __init__(self, rng: random.Random, tone: str) -> None:
        self._rng = rng
        self._tone = tone
        self._used: set[str] = set()

    def choice(self, options: list[str]) -> str:
        return self._rng.choice(options)

    def pick(
        self,
        pool: Pool,
        slots: dict[str, str | None],
        max_sentences: int = 3,
        fits: Callable[[str], bool] = lambda template: True,
    ) -> str | None:
        """A template of the book's tone when there is one to spare, filled with ``slots``;
        None when no template fits the slots known, the sentences left on the page and ``fits``
        (the book's plan and the page's photo)."""

        def usable(template: str) -> bool:
            return count_sentences(template) <= max_sentences and _fits(template, slots) and fits(template)

        toned = [t for t in pool.get(self._tone, ()) if usable(t)]
        every = [t for t in pool["base"] if usable(t)] + toned
        fresh_toned = [t for t in toned if t not in self._used]
        if fresh_toned and self._rng.random() < _TONE_PREFERENCE:
            candidates = fresh_toned
        else:
            candidates = [t for t in every if t not in self._used] or every
        if not candidates:
            return None
        template = self._rng.choice(candidates)
        self._used.add(template)
        return template.format(**slots)


def _fits(template: str, slots: dict[str, str | None]) -> bool:
    return all(slots.get(name) for _, name, _, _ in Formatter().parse(template) if name)
