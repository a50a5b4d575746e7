"""Latency-only providers for load tests: they take as long as a hosted model would (a seeded draw from a
configured range, times a time scale) and answer like one, without any image or text work; the PDF layout has a stand-in of the same kind. With them a
load test measures the orchestration — queues, workers, the state machine, the database — not Pillow.
Chaos wrappers (storywink.faults) still apply, so the error behaviour is the real one.

`STORY_PROVIDER=simulated` / `ILLUSTRATION_PROVIDER=simulated`; the ranges and the scale come from the
settings (SIMULATED_*). A page always draws the same latency, so a bench can recompute every draw.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from storywink.config import Settings
from storywink.printing.book import PrintBook
from storywink.providers.base import (
    IllustrationRequest,
    IllustrationResult,
    PageStory,
    StoryRequest,
    StoryResult,
)

NAME = "simulated"
Sleep = Callable[[float], None]


@dataclass(frozen=True)
class LatencyRange:
    low: float
    high: float

    def draw(self, *key: str, seed: int = 0) -> float:
        """A latency in [low, high] (simulated seconds), fixed by the seed and the key."""
        digest = hashlib.blake2b("|".join((str(seed), *key)).encode(), digest_size=8).digest()
        return self.low + (self.high - self.low) * int.from_bytes(digest, "big") / 2**64


def story_latency(settings: Settings, book_id: str) -> float:
    return LatencyRange(*settings.simulated_story_latency).draw("story", book_id, seed=settings.simulated_seed)


def illustration_latency(settings: Settings, book_id: str, page_id: str) -> float:
    latency = LatencyRange(*settings.simulated_illustration_latency)
    return latency.draw("illustration", book_id, page_id, seed=settings.simulated_seed)


class SimulatedStoryProvider:
    name = NAME

    def __init__(self, settings: Settings, sleep: Sleep = time.sleep) -> None:
        self._settings = settings
        self._sleep = sleep

    def write_story(self, request: StoryRequest) -> StoryResult:
        self._sleep(story_latency(self._settings, request.book_id) * self._settings.simulated_time_scale)
        child = request.details.child_name
        pages = [
            PageStory(page.page_id, f"{child} turned page {page.page_number}.", "as in the photo")
            for page in sorted(request.pages, key=lambda page: page.page_number)
        ]
        return StoryResult(pages=pages, title=request.details.title, prompt_tokens=0, completion_tokens=0, provider=NAME)


class SimulatedIllustrationProvider:
    name = NAME

    def __init__(self, settings: Settings, sleep: Sleep = time.sleep) -> None:
        self._settings = settings
        self._sleep = sleep

    def illustrate(self, request: IllustrationRequest) -> IllustrationResult:
        latency = illustration_latency(self._settings, request.book_id, request.page_id)
        self._sleep(latency * self._settings.simulated_time_scale)
        return IllustrationResult(image=_TINY_PNG, content_type="image/png", provider=NAME)


class SimulatedPdfRenderer:
    """Takes as long as the real layout measured on this machine (per page, times the scale), and returns a
    small valid PDF."""

    def __init__(self, settings: Settings, sleep: Sleep = time.sleep) -> None:
        self._settings = settings
        self._sleep = sleep

    def __call__(self, book: PrintBook) -> bytes:
        pages = 1 + len(book.pages)
        self._sleep(self._settings.simulated_pdf_seconds_per_page * pages * self._settings.simulated_time_scale)
        return _TINY_PDF


# An 8 x 8 PNG of one warm colour: a picture without Pillow, which a latency-only provider never needs.
_TINY_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x08\x00\x00\x00\x08\x08\x02\x00\x00\x00Km)\xdc\x00\x00\x00"
    b"\x16IDATx^c\xfcp\xa2\x82\x01\x1b`\xc2&\x08\x12\x1b\x9c\x12\x00\xb8\xaf\x02@\x00\xc7\xaf\xc1\x00\x00\x00\x00IEND"
    b"\xaeB`\x82"
)
# One empty page: the smallest document a PDF reader opens.
_TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
