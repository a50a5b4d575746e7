"""Providers are chosen by configuration; the offline ones are the default."""

from __future__ import annotations

import pytest

from storywink.config import ConfigurationError, Settings, load_settings
from storywink.providers import (
    ContentPolicyError,
    IllustrationProvider,
    PermanentProviderError,
    ProviderError,
    StoryProvider,
    TransientProviderError,
    classify_http_status,
)
from storywink.providers.offline.illustration import OfflineIllustrationProvider
from storywink.providers.offline.story import OfflineStoryProvider
from storywink.providers.registry import build_illustration_provider, build_story_provider


@pytest.fixture(autouse=True)
def no_provider_configuration(monkeypatch):
    monkeypatch.delenv("STORY_PROVIDER", raising=False)
    monkeypatch.delenv("ILLUSTRATION_PROVIDER", raising=False)


def test_the_default_story_provider_is_offline():
    provider = build_story_provider(Settings())
    assert isinstance(provider, OfflineStoryProvider)
    assert isinstance(provider, StoryProvider)
    assert provider.name == "offline"


def test_the_default_illustration_provider_is_offline():
    provider = build_illustration_provider(Settings())
    assert isinstance(provider, OfflineIllustrationProvider)
    assert isinstance(provider, IllustrationProvider)
    assert provider.name == "offline"


def test_the_environment_chooses_the_provider(monkeypatch):
    monkeypatch.setenv("STORY_PROVIDER", "OpenAI")
    monkeypatch.setenv("ILLUSTRATION_PROVIDER", "Offline")
    settings = load_settings()
    assert build_story_provider(settings).name == "openai"
    assert build_illustration_provider(settings).name == "offline"


def test_an_unknown_story_provider_is_refused_with_the_known_names(monkeypatch):
    monkeypatch.setenv("STORY_PROVIDER", "gpt-9000")
    with pytest.raises(ConfigurationError, match="STORY_PROVIDER: .*'offline', 'openai' or 'simulated'"):
        load_settings()


def test_an_unknown_configured_illustration_provider_is_refused(monkeypatch):
    monkeypatch.setenv("ILLUSTRATION_PROVIDER", "nope")
    with pytest.raises(ConfigurationError, match="ILLUSTRATION_PROVIDER: "):
        load_settings()


def test_the_registry_builds_the_bare_adapter_even_when_chaos_is_configured():
    # Fault injection is the wiring's wrapper; wrapping here too would inject every fault twice.
    settings = Settings(chaos_failure_rate=1.0, chaos_pages="p1")
    assert isinstance(build_story_provider(settings), OfflineStoryProvider)
    assert isinstance(build_illustration_provider(settings), OfflineIllustrationProvider)


@pytest.mark.parametrize(
    ("error", "name"),
    [
        (TransientProviderError, "Provider.Transient"),
        (ContentPolicyError, "Provider.ContentPolicy"),
        (PermanentProviderError, "Provider.Permanent"),
    ],
)
def test_each_provider_error_has_its_step_functions_error_name(error, name):
    assert issubclass(error, ProviderError)
    assert error.error_name == name
    assert error("boom", provider="offline").provider == "offline"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (429, TransientProviderError),
        (500, TransientProviderError),
        (503, TransientProviderError),
        (400, PermanentProviderError),
        (401, PermanentProviderError),
        (404, PermanentProviderError),
    ],
)
def test_http_statuses_are_classified(status, error):
    assert classify_http_status(status) is error
