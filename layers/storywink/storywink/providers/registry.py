"""Chooses a provider by name. Adapters are imported lazily, so an unused SDK costs no cold start
and a hosted adapter is added here without touching the pipeline. When ``CHAOS_*`` variables configure
fault injection, the chosen provider comes wrapped by ``storywink.providers.chaos``."""

from __future__ import annotations

import importlib
import os

from storywink.providers.base import IllustrationProvider, StoryProvider

DEFAULT_PROVIDER = "offline"

# name -> "module:Class"
_STORY_PROVIDERS = {
    "offline": "storywink.providers.offline.story:OfflineStoryProvider",
    "openai": "storywink.providers.openai.story:OpenAIStoryProvider",
}
_ILLUSTRATION_PROVIDERS = {
    "offline": "storywink.providers.offline.illustration:OfflineIllustrationProvider",
    "openai": "storywink.providers.openai.illustration:OpenAIIllustrationProvider",
}


def get_story_provider(name: str | None = None) -> StoryProvider:
    return _build(_STORY_PROVIDERS, name or os.environ.get("STORY_PROVIDER"), "story")


def get_illustration_provider(name: str | None = None) -> IllustrationProvider:
    return _build(_ILLUSTRATION_PROVIDERS, name or os.environ.get("ILLUSTRATION_PROVIDER"), "illustration")


def _build(known: dict[str, str], name: str | None, kind: str):
    key = (name or DEFAULT_PROVIDER).strip().lower()
    target = known.get(key)
    if target is None:
        raise ValueError(f"Unknown {kind} provider {name!r}; known: {', '.join(sorted(known))}")
    module_name, class_name = target.split(":")

    def build():
        return getattr(importlib.import_module(module_name), class_name)()

    if any(variable.startswith("CHAOS_") for variable in os.environ):
        from storywink.providers.chaos import with_chaos

        return with_chaos(kind, key, build)
    return build()
