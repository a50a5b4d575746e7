"""Crash injection for workers: a Lambda container dying right after a side effect.

When ``CRASH_AT`` names a point, the wiring wraps the dependency that makes that side effect, and the
first ``CRASH_TIMES`` (default 1) side effects for each key in this container crash; later ones pass.
With ``CRASH_RATE`` instead, each side effect crashes with that probability, drawn independently: a retry
draws afresh in this container or any other (a draw fixed by the key and a count kept per container would
crash the same page again in every fresh container, and a killed container's replacement is always fresh).
With ``CRASH_KIND=raise`` (the default) the crash is ``InjectedCrash``, deliberately not a
``ProviderError``: the runner treats it as a crash, releases the task and the message comes back soon.
With ``CRASH_KIND=kill`` it is ``ContainerKilled``, which nothing in the worker catches: like a Lambda
timeout or an out-of-memory kill, the task keeps its lease until it runs out and the lease sweeper
fails it. The pipeline steps know nothing of either.

Points:

- ``story.after_provider``: the story provider has answered (its text is not stored yet)
- ``illustration.after_upload``: the illustration is in S3 (the page does not point at it yet)
- ``pdf.after_upload``: the PDF is in S3 (the book does not point at it yet)
"""

from __future__ import annotations

import random
import threading

from storywink.providers.base import StoryProvider, StoryRequest, StoryResult
from storywink.storage import keys
from storywink.storage.media import MediaStore

CRASH_POINTS = frozenset({"story.after_provider", "illustration.after_upload", "pdf.after_upload"})


class InjectedCrash(RuntimeError):
    pass


class ContainerKilled(BaseException):
    """The execution environment is gone: no handler code runs after this (the local stack's poller
    leaves the batch in flight, as Lambda does after a timeout)."""


class CrashInjector:
    """Counts side effects per key and raises for the first ``times`` of each."""

    def __init__(self, point: str, times: int, kind: str = "raise", rate: float | None = None) -> None:
        if point not in CRASH_POINTS:
            raise ValueError(f"Unknown crash point {point!r}; known: {', '.join(sorted(CRASH_POINTS))}")
        self.point = point
        self.times = times
        self.kind = kind
        self.rate = rate
        self._crashes: dict[str, int] = {}
        self._lock = threading.Lock()
        self._random = random.Random()  # seeded from the system: containers draw independently

    def after(self, key: str) -> None:
        with self._lock:
            crashes = self._crashes.get(key, 0)
            if self.rate is None and crashes >= self.times:
                return
            self._crashes[key] = crashes + 1
        if self.rate is not None and self._random.random() >= self.rate:
            return
        message = f"crash: injected at {self.point} for {key} ({crashes + 1} of {self.times})"
        raise ContainerKilled(message) if self.kind == "kill" else InjectedCrash(message)


class CrashAfterStory:
    """A story provider that crashes its worker once the story has been written."""

    def __init__(self, inner: StoryProvider, injector: CrashInjector) -> None:
        self.inner = inner
        self.name = inner.name
        self._injector = injector

    def write_story(self, request: StoryRequest) -> StoryResult:
        result = self.inner.write_story(request)
        self._injector.after(request.book_id)
        return result


class CrashAfterUpload(MediaStore):
    """A media store that crashes its worker right after storing an illustration or a PDF."""

    def __init__(self, inner: MediaStore, injector: CrashInjector) -> None:
        super().__init__(inner.bucket, inner.s3, inner.urls, inner.window_seconds, inner.clock)
        self._injector = injector
        self._kind = injector.point.split(".")[0]

    def write(self, key: str, data: bytes, content_type: str, cache_control: str | None = None) -> None:
        super().write(key, data, content_type, cache_control)
        stored = keys.parse_generated_key(key)
        if stored is not None and stored.kind == self._kind:
            self._injector.after(stored.subject)
