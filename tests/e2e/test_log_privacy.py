"""No child's data in logs or traces: a whole generation with distinctive strings in every field a parent
fills in (and the account's email), then a page edited; none of them may appear in any log line the
functions write or in anything handed to the tracer (annotations, metadata, subsegment names).

Logs are captured at DEBUG, below any level a deployment runs at, so a line that would only show up when
someone turns logging up counts too. The tracer is locally off; for this test its provider records what
every segment is given (the Lambda handlers' response and error metadata included, which the template
turns off with POWERTOOLS_TRACER_CAPTURE_RESPONSE / _ERROR).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest

from storywink.observability import NoTracing, logger, tracer

pytestmark = pytest.mark.e2e

SECRETS = {
    "title": "Marmalade Comet Quixotry",
    "childName": "Zephyrinelle",
    "tone": "whisperingly-snorkelish",
    "theme": "Pumpernickel Lighthouses",
    "keyCharacters": "Grandpa Thistlewick",
    "specialObjects": "a jade kazoo-umbrella",
    "excitementElement": "the velveteen avalanche",
}
EMAIL = "quillon.farthingale@example.test"
PAGE_TEXT = "Zephyrinelle hums to the sleepy narwhal orchestra."


class CollectLines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


class _RecordingSegment:
    def __init__(self, recorded: list[str], name: str | None) -> None:
        self._recorded = recorded
        recorded.append(f"subsegment {name}")

    def put_annotation(self, key: str, value: Any) -> None:
        self._recorded.append(f"annotation {key}={value!r}")

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self._recorded.append(f"metadata {namespace}.{key}={json.dumps(value, default=str)}")

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        self._recorded.append(f"exception {exception!r}")

    def __getattr__(self, name: str) -> Any:  # close, add_subsegment, ...: nothing to record
        return lambda *args, **kwargs: None


class RecordingTracing(NoTracing):
    """What the X-Ray SDK would be handed, as text."""

    def __init__(self) -> None:
        self.recorded: list[str] = []

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Iterator[Any]:
        yield _RecordingSegment(self.recorded, name)

    @asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> AsyncIterator[Any]:
        yield _RecordingSegment(self.recorded, name)

    def put_annotation(self, key: str, value: Any) -> None:
        self.recorded.append(f"annotation {key}={value!r}")

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.recorded.append(f"metadata {namespace}.{key}={json.dumps(value, default=str)}")


@pytest.fixture
def captured() -> Iterator[tuple[CollectLines, RecordingTracing]]:
    """Every log line (ours at DEBUG, and every library's that reaches the root logger) and every trace
    record while the test runs; the logger's level and the tracer put back after it."""
    lines = CollectLines()
    lines.setFormatter(logger.registered_formatter)
    ours, root = logging.getLogger(logger.name), logging.getLogger()
    level = ours.level
    recording, provider, disabled = RecordingTracing(), tracer.provider, tracer.disabled
    ours.addHandler(lines)
    root.addHandler(lines)
    ours.setLevel(logging.DEBUG)
    tracer.provider, tracer.disabled = recording, False
    try:
        yield lines, recording
    finally:
        tracer.provider, tracer.disabled = provider, disabled
        ours.setLevel(level)
        root.removeHandler(lines)
        ours.removeHandler(lines)


def leaks(texts: list[str], secrets: list[str]) -> list[str]:
    return [f"{secret!r} in {text[:300]}" for text in texts for secret in secrets if secret.lower() in text.lower()]


def test_no_child_data_or_email_reaches_logs_or_traces(api, stack, sample_photos, captured):
    lines, traces = captured
    parent = api("privacy-parent")
    parent.http.headers["Authorization"] = f"Bearer {stack.mint_token('privacy-parent', email=EMAIL)}"

    book = parent.make_book(sample_photos[:3], autoIllustrate=False, **SECRETS)
    parent("POST", f"/v1/books/{book['id']}/generate", 202)  # the story, then the parent reads it
    parent.wait_for(book["id"], {"STORY_READY"})
    story = parent("GET", f"/v1/books/{book['id']}")
    page = next(page for page in story["pages"] if not page["isTitlePage"])
    parent("PATCH", f"/v1/books/{book['id']}/pages/{page['id']}", json={"text": PAGE_TEXT})
    parent("POST", f"/v1/books/{book['id']}/illustrate", 202)  # the illustrations and the PDF
    parent.wait_for(book["id"], {"COMPLETED", "PARTIAL", "FAILED"})
    finished = parent("GET", f"/v1/books/{book['id']}")

    assert finished["status"] in {"COMPLETED", "PARTIAL"}
    written = [p["text"] for p in story["pages"] if p["text"]]
    assert written, "the story wrote no page text"
    assert any(SECRETS["childName"] in text for text in written)  # the stories do hold the name
    assert len(lines.lines) > 20 and any("subsegment" in record for record in traces.recorded)
    secrets = [*SECRETS.values(), EMAIL, PAGE_TEXT, *written]
    assert leaks(lines.lines, secrets) == []
    assert leaks(traces.recorded, secrets) == []
