"""AI providers behind small interfaces: the pipeline asks the registry, never a concrete adapter."""

from storywink.providers.base import (
    IllustrationProvider,
    IllustrationRequest,
    IllustrationResult,
    PagePhoto,
    PageStory,
    StoryProvider,
    StoryRequest,
    StoryResult,
)
from storywink.providers.errors import (
    ContentPolicyError,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
    classify_http_status,
)
from storywink.providers.registry import get_illustration_provider, get_story_provider

__all__ = [
    "ContentPolicyError",
    "IllustrationProvider",
    "IllustrationRequest",
    "IllustrationResult",
    "PagePhoto",
    "PageStory",
    "PermanentProviderError",
    "ProviderError",
    "StoryProvider",
    "StoryRequest",
    "StoryResult",
    "TransientProviderError",
    "classify_http_status",
    "get_illustration_provider",
    "get_story_provider",
]
