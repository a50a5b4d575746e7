"""The chaos wrappers inject seeded, per-page provider faults and latency; the wiring adds them on request."""

from __future__ import annotations

import threading

import pytest

from storywink.config import ConfigurationError, Settings, load_settings
from storywink.domain.book_details import BookDetails
from storywink.faults.chaos import ChaosIllustrationProvider, ChaosSettings, ChaosStoryProvider
from storywink.providers import (
    ContentPolicyError,
    IllustrationProvider,
    IllustrationRequest,
    IllustrationResult,
    PagePhoto,
    PageStory,
    PermanentProviderError,
    StoryProvider,
    StoryRequest,
    StoryResult,
    TransientProviderError,
)
from storywink.providers.offline.illustration import OfflineIllustrationProvider
from storywink.providers.offline.story import OfflineStoryProvider
from storywink.wiring import Container

BOOK = "book-1"


class FakeStoryProvider:
    name = "fake"

    def __init__(self) -> None:
        self.calls = 0

    def write_story(self, request: StoryRequest) -> StoryResult:
        self.calls += 1
        pages = [PageStory(page_id=p.page_id, text="Once.", illustration_notes="") for p in request.pages]
        title = request.details.title
        return StoryResult(pages=pages, title=title, prompt_tokens=1, completion_tokens=1, provider=self.name)


class FakeIllustrationProvider:
    name = "fake"

    def __init__(self) -> None:
        self.calls = 0

    def illustrate(self, request: IllustrationRequest) -> IllustrationResult:
        self.calls += 1
        return IllustrationResult(image=b"png", content_type="image/png", provider=self.name)


class FakeSleep:
    def __init__(self) -> None:
        self.slept: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


def story_request(*page_ids: str) -> StoryRequest:
    pages = [PagePhoto(page_id=p, page_number=i, is_title_page=i == 0, photo=b"") for i, p in enumerate(page_ids)]
    details = BookDetails(title="Milo", child_name="Milo", art_style="cartoon")
    return StoryRequest(book_id=BOOK, details=details, pages=pages)


def page_request(page_id: str, book_id: str = BOOK) -> IllustrationRequest:
    return IllustrationRequest(
        book_id=book_id,
        page_id=page_id,
        art_style="cartoon",
        photo=b"",
        text=None,
        illustration_notes=None,
        is_title_page=False,
    )


def illustrator(inner: FakeIllustrationProvider | None = None, **settings) -> ChaosIllustrationProvider:
    return ChaosIllustrationProvider(inner or FakeIllustrationProvider(), ChaosSettings(**settings), sleep=FakeSleep())


def failing_pages(seed: int, pages: list[str]) -> set[str]:
    provider = illustrator(failure_rate=0.3, seed=seed)
    failed = set()
    for page in pages:
        try:
            provider.illustrate(page_request(page))
        except TransientProviderError:
            failed.add(page)
    return failed


@pytest.fixture(autouse=True)
def no_chaos_configuration(monkeypatch):
    for variable in (
        "STORY_PROVIDER",
        "ILLUSTRATION_PROVIDER",
        "CHAOS_FAILURE_RATE",
        "CHAOS_ERROR_KIND",
        "CHAOS_LATENCY_MS",
        "CHAOS_SEED",
        "CHAOS_STEPS",
        "CHAOS_PAGES",
        "CHAOS_TRANSIENT_ATTEMPTS",
    ):
        monkeypatch.delenv(variable, raising=False)


def test_the_wrappers_implement_the_provider_protocols_and_name_their_inner_provider():
    story = ChaosStoryProvider(FakeStoryProvider(), ChaosSettings())
    illustration = ChaosIllustrationProvider(FakeIllustrationProvider(), ChaosSettings())
    assert isinstance(story, StoryProvider)
    assert isinstance(illustration, IllustrationProvider)
    assert story.name == illustration.name == "chaos(fake)"


def test_rate_zero_delegates_untouched():
    inner = FakeStoryProvider()
    sleep = FakeSleep()
    provider = ChaosStoryProvider(inner, ChaosSettings(failure_rate=0.0), sleep=sleep)
    result = provider.write_story(story_request("p1", "p2"))
    assert [page.page_id for page in result.pages] == ["p1", "p2"]
    assert result.provider == "fake"
    assert inner.calls == 1
    assert sleep.slept == []


@pytest.mark.parametrize(
    ("kind", "error", "error_name"),
    [
        ("transient", TransientProviderError, "Provider.Transient"),
        ("content-policy", ContentPolicyError, "Provider.ContentPolicy"),
        ("permanent", PermanentProviderError, "Provider.Permanent"),
    ],
)
def test_rate_one_always_raises_the_configured_kind(kind, error, error_name):
    inner = FakeIllustrationProvider()
    provider = illustrator(inner, failure_rate=1.0, error_kind=kind)
    for page in ("p1", "p2", "p3"):
        with pytest.raises(error) as raised:
            provider.illustrate(page_request(page))
        assert raised.value.error_name == error_name
        assert raised.value.provider == "chaos(fake)"
    assert inner.calls == 0


def test_an_injected_fault_names_the_page_and_the_call():
    provider = illustrator(failure_rate=1.0)
    with pytest.raises(TransientProviderError, match=r"^chaos: injected transient fault \(page p7, call 1\)$"):
        provider.illustrate(page_request("p7"))
    with pytest.raises(TransientProviderError, match=r"call 2\)$"):
        provider.illustrate(page_request("p7"))


def test_an_injected_story_fault_names_the_book():
    provider = ChaosStoryProvider(FakeStoryProvider(), ChaosSettings(failure_rate=1.0, error_kind="permanent"))
    with pytest.raises(PermanentProviderError, match=r"\(book book-1, call 1\)"):
        provider.write_story(story_request("p1"))


def test_a_rate_fails_roughly_that_share_of_pages():
    pages = [f"page-{n}" for n in range(200)]
    assert 30 <= len(failing_pages(seed=7, pages=pages)) <= 90


def test_the_same_seed_fails_the_same_pages():
    pages = [f"page-{n}" for n in range(200)]
    assert failing_pages(seed=7, pages=pages) == failing_pages(seed=7, pages=pages)


def test_a_different_seed_fails_different_pages():
    pages = [f"page-{n}" for n in range(200)]
    assert failing_pages(seed=7, pages=pages) != failing_pages(seed=8, pages=pages)


def test_the_same_page_in_another_book_gets_its_own_draw():
    provider = illustrator(failure_rate=0.5, seed=3)
    outcomes = set()
    for book in (f"book-{n}" for n in range(40)):
        try:
            provider.illustrate(page_request("cover", book_id=book))
            outcomes.add("ok")
        except TransientProviderError:
            outcomes.add("failed")
    assert outcomes == {"ok", "failed"}


def test_transient_attempts_fail_the_first_calls_for_a_page_then_succeed():
    inner = FakeIllustrationProvider()
    provider = illustrator(inner, failure_rate=1.0, transient_attempts=2)
    for _ in range(2):
        with pytest.raises(TransientProviderError):
            provider.illustrate(page_request("p1"))
    assert provider.illustrate(page_request("p1")).image == b"png"
    assert provider.illustrate(page_request("p1")).image == b"png"
    assert inner.calls == 2


def test_transient_attempts_are_counted_per_page():
    provider = illustrator(failure_rate=1.0, transient_attempts=1)
    with pytest.raises(TransientProviderError):
        provider.illustrate(page_request("p1"))
    provider.illustrate(page_request("p1"))
    with pytest.raises(TransientProviderError):
        provider.illustrate(page_request("p2"))


def test_transient_attempts_do_not_let_a_permanent_fault_recover():
    provider = illustrator(failure_rate=1.0, error_kind="permanent", transient_attempts=1)
    for _ in range(3):
        with pytest.raises(PermanentProviderError):
            provider.illustrate(page_request("p1"))


def test_calls_are_counted_safely_from_several_threads():
    provider = illustrator(failure_rate=1.0, transient_attempts=50)
    failures: list[int] = []

    def call_ten_times() -> None:
        for _ in range(10):
            try:
                provider.illustrate(page_request("p1"))
            except TransientProviderError:
                failures.append(1)

    threads = [threading.Thread(target=call_ten_times) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(failures) == 50


def test_listed_pages_always_fail_whatever_the_rate():
    provider = illustrator(failure_rate=0.0, error_kind="content-policy", pages=frozenset({"p2"}))
    provider.illustrate(page_request("p1"))
    for _ in range(5):
        with pytest.raises(ContentPolicyError):
            provider.illustrate(page_request("p2"))


def test_a_story_fails_when_one_of_its_pages_is_listed():
    provider = ChaosStoryProvider(FakeStoryProvider(), ChaosSettings(pages=frozenset({"p2"})))
    provider.write_story(story_request("p1", "p3"))
    with pytest.raises(TransientProviderError):
        provider.write_story(story_request("p1", "p2"))


def test_latency_is_added_to_every_call():
    sleep = FakeSleep()
    provider = ChaosIllustrationProvider(FakeIllustrationProvider(), ChaosSettings(latency_ms=250), sleep=sleep)
    provider.illustrate(page_request("p1"))
    provider.illustrate(page_request("p2"))
    assert sleep.slept == [0.25, 0.25]


def test_latency_comes_before_an_injected_fault():
    sleep = FakeSleep()
    provider = ChaosIllustrationProvider(
        FakeIllustrationProvider(), ChaosSettings(failure_rate=1.0, latency_ms=40), sleep=sleep
    )
    with pytest.raises(TransientProviderError):
        provider.illustrate(page_request("p1"))
    assert sleep.slept == [0.04]


def test_a_step_left_out_of_the_chaos_steps_is_untouched():
    sleep = FakeSleep()
    settings = ChaosSettings(failure_rate=1.0, latency_ms=10, steps=frozenset({"illustration"}))
    provider = ChaosStoryProvider(FakeStoryProvider(), settings, sleep=sleep)
    assert provider.write_story(story_request("p1")).title == "Milo"
    assert sleep.slept == []


def test_settings_are_read_from_the_environment(monkeypatch):
    for variable, value in {
        "CHAOS_FAILURE_RATE": "0.25",
        "CHAOS_ERROR_KIND": "Content-Policy",
        "CHAOS_LATENCY_MS": "120",
        "CHAOS_SEED": "42",
        "CHAOS_STEPS": "illustration",
        "CHAOS_PAGES": " p1, p2 ,",
        "CHAOS_TRANSIENT_ATTEMPTS": "3",
    }.items():
        monkeypatch.setenv(variable, value)
    assert ChaosSettings.from_settings(load_settings()) == ChaosSettings(
        failure_rate=0.25,
        error_kind="content-policy",
        latency_ms=120,
        seed=42,
        steps=frozenset({"illustration"}),
        pages=frozenset({"p1", "p2"}),
        transient_attempts=3,
    )


def test_an_empty_environment_gives_chaos_off_for_both_steps():
    settings = ChaosSettings.from_settings(load_settings())
    assert settings == ChaosSettings()
    assert settings.steps == frozenset({"story", "illustration"})
    assert settings.transient_attempts is None
    assert not settings.enabled


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CHAOS_FAILURE_RATE", "1.5"),
        ("CHAOS_FAILURE_RATE", "2"),
        ("CHAOS_FAILURE_RATE", "-0.1"),
        ("CHAOS_FAILURE_RATE", "nan"),
        ("CHAOS_FAILURE_RATE", "often"),
        ("CHAOS_ERROR_KIND", "flaky"),
        ("CHAOS_LATENCY_MS", "-5"),
        ("CHAOS_LATENCY_MS", "1.5"),
        ("CHAOS_SEED", "abc"),
        ("CHAOS_STEPS", "story,pdf"),
        ("CHAOS_STEPS", ","),
        ("CHAOS_TRANSIENT_ATTEMPTS", "0"),
        ("CHAOS_TRANSIENT_ATTEMPTS", "two"),
    ],
)
def test_a_bad_environment_value_is_refused_with_its_name(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=f"{variable}: "):
        load_settings()


def test_the_wiring_does_not_wrap_without_chaos_configuration():
    container = Container(Settings())
    assert isinstance(container.story_provider, OfflineStoryProvider)
    assert isinstance(container.illustration_provider, OfflineIllustrationProvider)


def test_the_wiring_does_not_wrap_when_the_rate_is_zero():
    container = Container(Settings(chaos_failure_rate=0.0, chaos_seed=9))
    assert isinstance(container.story_provider, OfflineStoryProvider)
    assert isinstance(container.illustration_provider, OfflineIllustrationProvider)


def test_the_wiring_wraps_both_providers_when_a_rate_is_set():
    container = Container(Settings(chaos_failure_rate=0.2))
    story, illustration = container.story_provider, container.illustration_provider
    assert isinstance(story, ChaosStoryProvider)
    assert isinstance(story.inner, OfflineStoryProvider)
    assert isinstance(illustration, ChaosIllustrationProvider)
    assert illustration.name == "chaos(offline)"


def test_the_wiring_wraps_when_pages_are_listed():
    assert isinstance(Container(Settings(chaos_pages="p1")).illustration_provider, ChaosIllustrationProvider)


def test_the_wiring_wraps_only_the_chaos_steps():
    container = Container(Settings(chaos_failure_rate=0.2, chaos_steps="illustration"))
    assert isinstance(container.story_provider, OfflineStoryProvider)
    assert isinstance(container.illustration_provider, ChaosIllustrationProvider)


def test_the_wiring_keeps_one_wrapper_so_call_counts_outlive_a_message():
    container = Container(Settings(chaos_failure_rate=0.2, chaos_seed=1234))
    assert container.illustration_provider is container.illustration_provider
    assert container.story_provider is container.story_provider


def test_the_wiring_wraps_with_its_own_settings():
    container = Container(Settings(chaos_pages="p1", chaos_error_kind="permanent"))
    with pytest.raises(PermanentProviderError, match="page p1"):
        container.illustration_provider.illustrate(page_request("p1"))
