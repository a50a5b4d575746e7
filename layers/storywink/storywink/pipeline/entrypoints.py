"""What each worker does with one task message; dependencies default from settings and can be injected."""

from __future__ import annotations

from functools import partial

from storywink.config import get_settings
from storywink.domain.enums import JobStep
from storywink.pipeline.finalize import finalize_book
from storywink.pipeline.illustrate import illustrate_page, record_illustration_error
from storywink.pipeline.messages import FinalizeTask, IllustrationTask, PdfTask, StoryTask
from storywink.pipeline.pdf import render_pdf
from storywink.pipeline.runner import run_step
from storywink.pipeline.story import write_story
from storywink.providers.base import IllustrationProvider, StoryProvider
from storywink.providers.registry import get_illustration_provider, get_story_provider
from storywink.storage.media import MediaStore


def default_media() -> MediaStore:
    return MediaStore(get_settings().bucket_name)


def handle_story(
    task: StoryTask, message_id: str | None, media: MediaStore | None = None, provider: StoryProvider | None = None
) -> None:
    media, provider = media or default_media(), provider or get_story_provider()
    run_step(JobStep.STORY, task, message_id=message_id, work=lambda s: write_story(s, task, media, provider))


def handle_illustration(
    task: IllustrationTask,
    message_id: str | None,
    media: MediaStore | None = None,
    provider: IllustrationProvider | None = None,
) -> None:
    media, provider = media or default_media(), provider or get_illustration_provider()
    run_step(
        JobStep.ILLUSTRATION,
        task,
        message_id=message_id,
        page_id=task.page_id,
        work=lambda s: illustrate_page(s, task, media, provider),
        on_provider_error=partial(_record_illustration_error, task),
    )


def _record_illustration_error(task: IllustrationTask, session, error) -> None:  # type: ignore[no-untyped-def]
    record_illustration_error(session, task, error)


def handle_finalize(task: FinalizeTask, message_id: str | None) -> None:
    run_step(JobStep.FINALIZE, task, message_id=message_id, work=lambda s: finalize_book(s, task))


def handle_pdf(task: PdfTask, message_id: str | None, media: MediaStore | None = None) -> None:
    media = media or default_media()
    run_step(JobStep.PDF, task, message_id=message_id, work=lambda s: render_pdf(s, task, media))
