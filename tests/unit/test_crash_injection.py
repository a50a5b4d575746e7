"""Crash injection raises at the configured point a set number of times per key, then lets the work through."""

from __future__ import annotations

import pytest

from storywink.config import ConfigurationError, Settings, load_settings
from storywink.domain.book_details import BookDetails
from storywink.faults import crash_injector, media_with_faults, story_provider_with_faults
from storywink.faults.crash import CrashAfterStory, CrashAfterUpload, CrashInjector, InjectedCrash
from storywink.providers import PagePhoto, PageStory, StoryRequest, StoryResult
from storywink.providers.errors import ProviderError
from storywink.storage import keys
from storywink.storage.media import MediaStore
from storywink.wiring import Container

BOOK = "book-1"
PAGE = "page-1"


@pytest.fixture(autouse=True)
def no_crash_configuration(monkeypatch):
    monkeypatch.delenv("CRASH_AT", raising=False)
    monkeypatch.delenv("CRASH_TIMES", raising=False)


class FakeS3:
    """Keeps what is put, so a test can see the object was stored before the crash."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put_object(self, *, Bucket: str, Key: str, Body: bytes, ContentType: str) -> None:
        self.objects[Key] = Body


class FakeStoryProvider:
    name = "fake"

    def __init__(self) -> None:
        self.calls = 0

    def write_story(self, request: StoryRequest) -> StoryResult:
        self.calls += 1
        pages = [PageStory(page_id=p.page_id, text="Once.", illustration_notes="") for p in request.pages]
        return StoryResult(pages=pages, title=request.details.title, prompt_tokens=1, completion_tokens=1, provider=self.name)


def story_request(book_id: str = BOOK) -> StoryRequest:
    return StoryRequest(
        book_id=book_id,
        details=BookDetails(title="Milo", child_name="Milo", art_style="cartoon"),
        pages=[PagePhoto(page_id=PAGE, page_number=0, is_title_page=True, photo=b"")],
    )


def injector(**settings) -> CrashInjector:
    crashes = crash_injector(Settings(**settings))
    assert crashes is not None
    return crashes


# ---------------------------------------------------------------- counting per key


def test_nothing_crashes_without_configuration():
    provider, media = FakeStoryProvider(), MediaStore("bucket", FakeS3())
    crashes = crash_injector(Settings())
    assert crashes is None
    assert story_provider_with_faults(provider, Settings(), crashes) is provider
    assert media_with_faults(media, crashes) is media


def test_the_configured_point_crashes_once_per_key_by_default():
    crashes = injector(crash_at="illustration.after_upload")
    with pytest.raises(InjectedCrash, match="illustration.after_upload"):
        crashes.after(PAGE)
    crashes.after(PAGE)


def test_crash_times_sets_how_often_a_key_crashes():
    crashes = injector(crash_at="story.after_provider", crash_times=3)
    for _ in range(3):
        with pytest.raises(InjectedCrash):
            crashes.after(BOOK)
    crashes.after(BOOK)


def test_each_key_has_its_own_crashes():
    crashes = injector(crash_at="pdf.after_upload")
    with pytest.raises(InjectedCrash):
        crashes.after(BOOK)
    with pytest.raises(InjectedCrash):
        crashes.after(f"{BOOK}-other")


def test_crash_times_zero_never_crashes():
    injector(crash_at="story.after_provider", crash_times=0).after(BOOK)


def test_an_injected_crash_is_not_a_provider_error():
    assert issubclass(InjectedCrash, RuntimeError)
    assert not issubclass(InjectedCrash, ProviderError)


@pytest.mark.parametrize(
    ("variable", "value"),
    [("CRASH_TIMES", "twice"), ("CRASH_TIMES", "-1"), ("CRASH_AT", "pdf.before"), ("CRASH_AT", "story.after_write")],
)
def test_a_bad_crash_setting_is_refused(monkeypatch, variable, value):
    monkeypatch.setenv("CRASH_AT", "pdf.after_upload")
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=f"{variable}: "):
        load_settings()


def test_an_unknown_crash_point_in_code_is_refused():
    with pytest.raises(ValueError, match="Unknown crash point"):
        CrashInjector("pdf.after_uplaod", 1)


# ---------------------------------------------------------------- where the crashes happen


def test_a_story_crash_comes_after_the_provider_answered():
    inner = FakeStoryProvider()
    provider = CrashAfterStory(inner, CrashInjector("story.after_provider", 1))
    with pytest.raises(InjectedCrash, match=BOOK):
        provider.write_story(story_request())
    assert inner.calls == 1
    assert provider.write_story(story_request()).title == "Milo"


def test_story_crashes_are_counted_per_book():
    provider = CrashAfterStory(FakeStoryProvider(), CrashInjector("story.after_provider", 1))
    with pytest.raises(InjectedCrash):
        provider.write_story(story_request())
    with pytest.raises(InjectedCrash):
        provider.write_story(story_request(book_id="book-2"))


def test_an_illustration_crash_comes_after_the_upload_and_is_counted_per_page():
    s3 = FakeS3()
    media = CrashAfterUpload(MediaStore("bucket", s3), CrashInjector("illustration.after_upload", 1))
    key = keys.illustration_key(BOOK, PAGE)
    with pytest.raises(InjectedCrash, match=PAGE):
        media.write(key, b"png", "image/png")
    assert s3.objects[key] == b"png"
    media.write(key, b"png", "image/png")
    with pytest.raises(InjectedCrash, match="page-2"):
        media.write(keys.illustration_key(BOOK, "page-2"), b"png", "image/png")


def test_a_pdf_crash_comes_after_the_upload_and_is_counted_per_book():
    s3 = FakeS3()
    media = CrashAfterUpload(MediaStore("bucket", s3), CrashInjector("pdf.after_upload", 1))
    with pytest.raises(InjectedCrash, match=BOOK):
        media.write(keys.pdf_key(BOOK), b"%PDF", "application/pdf")
    assert s3.objects[keys.pdf_key(BOOK)] == b"%PDF"
    media.write(keys.pdf_key(BOOK), b"%PDF", "application/pdf")


def test_other_uploads_never_crash():
    s3 = FakeS3()
    media = CrashAfterUpload(MediaStore("bucket", s3), CrashInjector("illustration.after_upload", 5))
    for _ in range(5):
        media.write(keys.photo_key(BOOK, "asset-1", "jpg"), b"jpeg", "image/jpeg")
        media.write(keys.thumbnail_key(BOOK, "asset-1"), b"jpeg", "image/jpeg")
    assert len(s3.objects) == 2


def test_other_points_never_crash():
    settings = Settings(crash_at="illustration.after_upload", crash_times=5)
    crashes = crash_injector(settings)
    provider = story_provider_with_faults(FakeStoryProvider(), settings, crashes)
    media = media_with_faults(MediaStore("bucket", FakeS3()), crashes)
    for _ in range(5):
        provider.write_story(story_request())
        media.write(keys.pdf_key(BOOK), b"%PDF", "application/pdf")


# ---------------------------------------------------------------- what the wiring wraps


def test_the_story_point_crashes_the_story_provider():
    settings = Settings(crash_at="story.after_provider")
    provider = story_provider_with_faults(FakeStoryProvider(), settings, crash_injector(settings))
    with pytest.raises(InjectedCrash, match="story.after_provider"):
        provider.write_story(story_request())


@pytest.mark.parametrize(
    ("point", "key"),
    [("illustration.after_upload", keys.illustration_key(BOOK, PAGE)), ("pdf.after_upload", keys.pdf_key(BOOK))],
)
def test_an_upload_point_crashes_the_media_store(point, key):
    media = media_with_faults(MediaStore("bucket", FakeS3()), crash_injector(Settings(crash_at=point)))
    with pytest.raises(InjectedCrash, match=point):
        media.write(key, b"data", "application/octet-stream")


def test_the_wiring_wraps_the_story_provider_for_a_story_crash():
    assert isinstance(Container(Settings(crash_at="story.after_provider")).story_provider, CrashAfterStory)


def test_the_wiring_wraps_the_media_store_for_an_upload_crash():
    assert isinstance(Container(Settings(crash_at="pdf.after_upload")).media, CrashAfterUpload)


def test_a_crash_rate_draws_afresh_in_every_container():
    # Each killed container is replaced by a fresh one: the same key must not crash in all of them.
    crashed_in = 0
    for _ in range(200):
        injector = CrashInjector("illustration.after_upload", times=1, kind="raise", rate=0.5)
        try:
            injector.after("page-1")
        except InjectedCrash:
            crashed_in += 1

    assert 60 < crashed_in < 140
