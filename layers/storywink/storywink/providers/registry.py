"""Chooses a provider by its configured name. Adapters are imported lazily, so an unused SDK costs no
cold start and a hosted adapter is added here without touching the pipeline."""

from __future__ import annotations

import importlib
from typing import Any

from storywink.config import Settings
from storywink.providers.base import IllustrationProvider, StoryProvider

# name -> ("module:Class", whether the adapter takes the settings)
_STORY_PROVIDERS = {
    "offline": ("storywink.providers.offline.story:OfflineStoryProvider", False),
    "openai": ("storywink.providers.openai.story:OpenAIStoryProvider", True),
    "simulated": ("storywink.providers.simulated:SimulatedStoryProvider", True),
}
_ILLUSTRATION_PROVIDERS = {
    "offline": ("storywink.providers.offline.illustration:OfflineIllustrationProvider", False),
    "openai": ("storywink.providers.openai.illustration:OpenAIIllustrationProvider", True),
    "simulated": ("storywink.providers.simulated:SimulatedIllustrationProvider", True),
}


def build_story_provider(settings: Settings) -> StoryProvider:
    return _build(_STORY_PROVIDERS, settings.story_provider, "story", settings)


def build_illustration_provider(settings: Settings) -> IllustrationProvider:
    return _build(_ILLUSTRATION_PROVIDERS, settings.illustration_provider, "illustration", settings)


def _build(known: dict[str, tuple[str, bool]], name: str, kind: str, settings: Settings) -> Any:
    if name not in known:
        raise ValueError(f"Unknown {kind} provider {name!r}; known: {', '.join(sorted(known))}")
    target, takes_settings = known[name]
    module_name, class_name = target.split(":")
    adapter = getattr(importlib.import_module(module_name), class_name)
    return adapter(settings) if takes_settings else adapter()
