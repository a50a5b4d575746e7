"""Fault injection for the AI providers, for the local stack and for tests.

A chaos wrapper sits in front of a real provider and, before delegating, adds latency and raises
the configured provider error. Whether a call fails is a hash of (seed, step, book, page, the
call's number for that book/page) compared with the failure rate, never global random state:
the same seed and the same call sequence give the same faults, and a retry (the next call
number) gets a fresh draw, so retries can converge.

Environment (read by ``ChaosSettings.from_env``):

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
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

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
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> ChaosSettings:
        def value(name: str) -> str | None:
            return environ.get(name, "").strip() or None

        rate, latency, seed = value("CHAOS_FAILURE_RATE"), value("CHAOS_LATENCY_MS"), value("CHAOS_SEED")
        kind, steps, pages = value("CHAOS_ERROR_KIND"), value("CHAOS_STEPS"), value("CHAOS_PAGES")
        attempts = value("CHAOS_TRANSIENT_ATTEMPTS")
        return cls(
            failure_rate=_number(float, "CHAOS_FAILURE_RATE", rate) if rate else 0.0,
            error_kind=kind.lower() if kind else "transient",
            latency_ms=_number(int, "CHAOS_LATENCY_MS", latency) if latency else 0,
            seed=_number(int, "CHAOS_SEED", seed) if seed else 0,
            steps=frozenset(step.lower() for step in _items(steps)) if steps else STEPS,
            pages=frozenset(_items(pages)) if pages else frozenset(),
            transient_attempts=_number(int, "CHAOS_TRANSIENT_ATTEMPTS", attempts) if attempts else None,
        )

    @property
    def enabled(self) -> bool:
        return self.failure_rate > 0 or bool(self.pages) or self.latency_ms > 0

    def applies_to(self, step: str) -> bool:
        return self.enabled and step in self.steps


def _number(kind: type[int | float], name: str, raw: str) -> int | float:
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(f"{name} must be {'an integer' if kind is int else 'a number'}, got {raw!r}") from None


def _items(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


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


_WRAPPERS = {"story": ChaosStoryProvider, "illustration": ChaosIllustrationProvider}
_wrapped: dict[tuple[str, str, ChaosSettings], Provider] = {}
_wrapped_lock = threading.Lock()


def with_chaos(step: str, provider_key: str, build: Callable[[], Provider]) -> Provider:
    """The provider ``build`` makes, behind chaos when the environment configures it for ``step``.

    Workers look their provider up for every message, so one wrapper per (step, provider,
    settings) is kept for the process: its per-page call counts must outlive a single message,
    or a retried page would be judged as a first call forever.
    """
    settings = ChaosSettings.from_env()
    if not settings.applies_to(step):
        return build()
    with _wrapped_lock:
        wrapper = _wrapped.get((step, provider_key, settings))
        if wrapper is None:
            wrapper = _WRAPPERS[step](build(), settings)
            _wrapped[(step, provider_key, settings)] = wrapper
    return wrapper
