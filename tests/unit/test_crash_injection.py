"""Crash injection raises at the configured point a set number of times per key, then lets the work through."""

from __future__ import annotations

from uuid import uuid4

import pytest

from storywink.providers.crash import InjectedCrash, maybe_crash
from storywink.providers.errors import ProviderError


@pytest.fixture(autouse=True)
def no_crash_configuration(monkeypatch):
    monkeypatch.delenv("CRASH_AT", raising=False)
    monkeypatch.delenv("CRASH_TIMES", raising=False)


@pytest.fixture
def key() -> str:
    """Crash counts last for the process, so every test crashes its own key."""
    return f"page-{uuid4()}"


def test_nothing_crashes_without_configuration(key):
    maybe_crash("illustration.after_upload", key)


def test_the_configured_point_crashes_once_per_key_by_default(monkeypatch, key):
    monkeypatch.setenv("CRASH_AT", "illustration.after_upload")
    with pytest.raises(InjectedCrash, match="illustration.after_upload"):
        maybe_crash("illustration.after_upload", key)
    maybe_crash("illustration.after_upload", key)


def test_crash_times_sets_how_often_a_key_crashes(monkeypatch, key):
    monkeypatch.setenv("CRASH_AT", "story.after_write")
    monkeypatch.setenv("CRASH_TIMES", "3")
    for _ in range(3):
        with pytest.raises(InjectedCrash):
            maybe_crash("story.after_write", key)
    maybe_crash("story.after_write", key)


def test_each_key_has_its_own_crashes(monkeypatch, key):
    monkeypatch.setenv("CRASH_AT", "pdf.after_upload")
    with pytest.raises(InjectedCrash):
        maybe_crash("pdf.after_upload", key)
    with pytest.raises(InjectedCrash):
        maybe_crash("pdf.after_upload", f"{key}-other")


def test_other_points_never_crash(monkeypatch, key):
    monkeypatch.setenv("CRASH_AT", "illustration.after_upload")
    monkeypatch.setenv("CRASH_TIMES", "5")
    for _ in range(5):
        maybe_crash("story.after_write", key)
        maybe_crash("pdf.after_upload", key)


def test_crash_times_zero_never_crashes(monkeypatch, key):
    monkeypatch.setenv("CRASH_AT", "story.after_write")
    monkeypatch.setenv("CRASH_TIMES", "0")
    maybe_crash("story.after_write", key)


def test_an_injected_crash_is_not_a_provider_error():
    assert issubclass(InjectedCrash, RuntimeError)
    assert not issubclass(InjectedCrash, ProviderError)


@pytest.mark.parametrize(
    ("variable", "value"), [("CRASH_TIMES", "twice"), ("CRASH_TIMES", "-1"), ("CRASH_AT", "pdf.before")]
)
def test_a_bad_crash_setting_is_refused(monkeypatch, key, variable, value):
    monkeypatch.setenv("CRASH_AT", "pdf.after_upload")
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=variable):
        maybe_crash("pdf.after_upload", key)


def test_an_unknown_crash_point_in_code_is_refused(key):
    with pytest.raises(ValueError, match="Unknown crash point"):
        maybe_crash("pdf.after_uplaod", key)
