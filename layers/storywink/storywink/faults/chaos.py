"""Fault injection for the AI providers, for the local stack and for tests.

A chaos wrapper sits in front of a real provider and, before delegating, adds latency and raises
the configured provider error. Whether a call fails is a hash of (seed, step, book, page, the
call's number for that book/page) compared with the failure rate, never global random state:
the same seed and the same call sequence give the same faults, and a retry (the next call
number) gets a fresh draw, so retries can converge.

Settings (``CHAOS_*``, validated by storywink.config; the wiring wraps the providers when they are set):

- ``CHAOS_FAILURE_RATE``: 0.0–1.0, default 0 (off)
- ``CHAOS_ERROR_KIND``: ``transient`` | ``content-policy`` | ``permanent``, default transient
- ``CHAOS_LATENCY_MS``: latency added to every call, default 0
- ``CHAOS_SEED``: integer, default 0
- ``CHAOS_STEPS``: comma list of ``story``, ``illustration``; default both
- ``CHAOS_PAGES``: comma list of page ids that always fail, whatever the rate (a story call
  fails when any of its pages is listed)
- ``CHAOS_TRANSIENT_ATTEMPTS``: N; a transient fault hits only the first N calls for a
  book/page, then calls succeed (a flaky provider that recovers); default unlimited. It caps
  ``CHAOS_PAGES`` faults too, so a targeted page can be made to recover.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from storywink.config import Settings
from storywink.providers.base import (
    IllustrationProvider,
    IllustrationRequest,
    IllustrationResult,
    StoryProvider,
    StoryRequest,
    StoryResult,
)
from storywink.providers.errors import (
    ContentPolicyError,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
)

STEPS = frozenset({"story", "illustration"})
ERRORS: dict[str, type[ProviderError]] = {
    "transient": TransientProviderError,
    "content-policy": ContentPolicyError,
    "permanent": PermanentProviderError,
}

Sleep = Callable[[float], None]
Provider = StoryProvider | IllustrationProvider


@dataclass(frozen=True)
class ChaosSettings:
    failure_rate: float = 0.0
    error_kind: str = "transient"
    latency_ms: int = 0
    seed: int = 0
    steps: frozenset[str] = STEPS
    pages: frozenset[str] = frozenset()
    transient_attempts: int | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.failure_rate) and 0.0 <= self.failure_rate <= 1.0):
            raise ValueError(f"CHAOS_FAILURE_RATE must be between 0.0 and 1.0, got {self.failure_rate}")
        if self.error_kind not in ERRORS:
            raise ValueError(f"CHAOS_ERROR_KIND must be one of {', '.join(ERRORS)}, got {self.error_kind!r}")
        if self.latency_ms < 0:
            raise ValueError(f"CHAOS_LATENCY_MS must not be negative, got {self.latency_ms}")
        if not self.steps or not self.steps <= STEPS:
            raise ValueError(f"CHAOS_STEPS must name some of {', '.join(sorted(STEPS))}, got {sorted(self.steps)}")
        if self.transient_attempts is not None and self.transient_attempts < 1:
            raise ValueError(f"CHAOS_TRANSIENT_ATTEMPTS must be at least 1, got {self.transient_attempts}")

    @classmethod
    def from_settings(cls, settings: Settings) -> ChaosSettings:
        return cls(
            failure_rate=settings.chaos_failure_rate,
            error_kind=settings.chaos_error_kind,
            latency_ms=settings.chaos_latency_ms,
            seed=settings.chaos_seed,
            steps=settings.chaos_step_set,
            pages=settings.chaos_page_set,
            transient_attempts=settings.chaos_transient_attempts,
        )

    @property
    def enabled(self) -> bool:
        return self.failure_rate > 0 or bool(self.pages) or self.latency_ms > 0

    def applies_to(self, step: str) -> bool:
        return self.enabled and step in self.steps


class _FaultInjector:
    """The latency, call counting and fault decision shared by both wrappers."""

    def __init__(self, step: str, settings: ChaosSettings, sleep: Sleep) -> None:
        self._step = step
        self._settings = settings
        self._sleep = sleep
        self._calls: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def before_call(self, *, provider: str, book_id: str, page_id: str, targeted: bool) -> None:
        settings = self._settings
        if self._step not in settings.steps:
            return
        if settings.latency_ms:
            self._sleep(settings.latency_ms / 1000)
        with self._lock:
            call = self._calls.get((book_id, page_id), 0) + 1
            self._calls[(book_id, page_id)] = call
        recovered = settings.transient_attempts is not None and call > settings.transient_attempts
        if settings.error_kind == "transient" and recovered:
            return
        if targeted or self._draw(book_id, page_id, call) < settings.failure_rate:
            where = f"page {page_id}" if page_id else f"book {book_id}"
            raise ERRORS[settings.error_kind](
                f"chaos: injected {settings.error_kind} fault ({where}, call {call})", provider=provider
            )

    def _draw(self, book_id: str, page_id: str, call: int) -> float:
        """A uniform number in [0, 1) fixed by the seed and the call's identity."""
        key = f"{self._settings.seed}|{self._step}|{book_id}|{page_id}|{call}".encode()
        return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") / 2**64


class ChaosStoryProvider:
    def __init__(self, inner: StoryProvider, settings: ChaosSettings, *, sleep: Sleep = time.sleep) -> None:
        self.inner = inner
        self.name = f"chaos({inner.name})"
        self._faults = _FaultInjector("story", settings, sleep)
        self._pages = settings.pages

    def write_story(self, request: StoryRequest) -> StoryResult:
        targeted = any(page.page_id in self._pages for page in request.pages)
        self._faults.before_call(provider=self.name, book_id=request.book_id, page_id="", targeted=targeted)
        return self.inner.write_story(request)


class ChaosIllustrationProvider:
    def __init__(self, inner: IllustrationProvider, settings: ChaosSettings, *, sleep: Sleep = time.sleep) -> None:
        self.inner = inner
        self.name = f"chaos({inner.name})"
        self._faults = _FaultInjector("illustration", settings, sleep)
        self._pages = settings.pages

    def illustrate(self, request: IllustrationRequest) -> IllustrationResult:
        self._faults.before_call(
            provider=self.name,
            book_id=request.book_id,
            page_id=request.page_id,
            targeted=request.page_id in self._pages,
        )
        return self.inner.illustrate(request)


def with_chaos(provider: Provider, step: str, settings: ChaosSettings) -> Provider:
    """``provider`` behind chaos when the settings configure it for ``step``. The wiring wraps each
    provider once per container, so per-page call counts outlive a single message (a retried page is
    its next call, not a first call forever)."""
    if not settings.applies_to(step):
        return provider
    wrapper = ChaosStoryProvider if step == "story" else ChaosIllustrationProvider
    return wrapper(provider, settings)  # type: ignore[arg-type]
