"""Providers are chosen by name or configuration; the offline ones are the default."""

from __future__ import annotations

import pytest

from storywink.providers import (
    ContentPolicyError,
    IllustrationProvider,
    PermanentProviderError,
    ProviderError,
    StoryProvider,
    TransientProviderError,
    classify_http_status,
    get_illustration_provider,
    get_story_provider,
)
from storywink.providers.offline.illustration import OfflineIllustrationProvider
from storywink.providers.offline.story import OfflineStoryProvider


@pytest.fixture(autouse=True)
def no_provider_configuration(monkeypatch):
    monkeypatch.delenv("STORY_PROVIDER", raising=False)
    monkeypatch.delenv("ILLUSTRATION_PROVIDER", raising=False)


def test_the_default_story_provider_is_offline():
    provider = get_story_provider()
    assert isinstance(provider, OfflineStoryProvider)
    assert isinstance(provider, StoryProvider)
    assert provider.name == "offline"


def test_the_default_illustration_provider_is_offline():
    provider = get_illustration_provider()
    assert isinstance(provider, OfflineIllustrationProvider)
    assert isinstance(provider, IllustrationProvider)
    assert provider.name == "offline"


def test_the_environment_chooses_the_provider(monkeypatch):
    monkeypatch.setenv("STORY_PROVIDER", "Offline")
    monkeypatch.setenv("ILLUSTRATION_PROVIDER", "offline")
    assert get_story_provider().name == "offline"
    assert get_illustration_provider().name == "offline"


def test_an_unknown_story_provider_is_refused_with_the_known_names():
    with pytest.raises(ValueError, match="offline"):
        get_story_provider("gpt-9000")


def test_an_unknown_configured_illustration_provider_is_refused(monkeypatch):
    monkeypatch.setenv("ILLUSTRATION_PROVIDER", "nope")
    with pytest.raises(ValueError, match="nope"):
        get_illustration_provider()


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
