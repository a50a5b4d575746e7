"""Fault injection for the local stack and the tests: provider chaos and worker crashes.

Applied by the wiring as wrappers around the providers and the media store, only when the settings
ask for it; the pipeline steps import nothing from here.
"""

from __future__ import annotations

from storywink.config import Settings
from storywink.faults.chaos import ChaosSettings, with_chaos
from storywink.faults.crash import CrashAfterStory, CrashAfterUpload, CrashInjector
from storywink.providers.base import IllustrationProvider, StoryProvider
from storywink.storage.media import MediaStore


def crash_injector(settings: Settings) -> CrashInjector | None:
    if settings.crash_at is None:
        return None
    return CrashInjector(settings.crash_at, settings.crash_times, settings.crash_kind, settings.crash_rate)


def story_provider_with_faults(
    provider: StoryProvider, settings: Settings, crashes: CrashInjector | None
) -> StoryProvider:
    wrapped = with_chaos(provider, "story", ChaosSettings.from_settings(settings))
    if crashes is not None and crashes.point == "story.after_provider":
        wrapped = CrashAfterStory(wrapped, crashes)  # type: ignore[arg-type]
    return wrapped  # type: ignore[return-value]


def illustration_provider_with_faults(provider: IllustrationProvider, settings: Settings) -> IllustrationProvider:
    return with_chaos(provider, "illustration", ChaosSettings.from_settings(settings))  # type: ignore[return-value]


def media_with_faults(media: MediaStore, crashes: CrashInjector | None) -> MediaStore:
    if crashes is not None and crashes.point.endswith(".after_upload"):
        return CrashAfterUpload(media, crashes)
    return media
