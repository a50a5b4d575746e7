"""AI providers behind small interfaces: the wiring picks an adapter (storywink.providers.registry); the
pipeline only sees the interfaces."""

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
]
