"""The four step workers invoked with the sample SQS events in events/, as Lambda (or `sam local invoke`) would.

Each test builds a real book through the API, puts the book's ids into a sample event and calls the
worker's handler in-process; the effects are read back from PostgreSQL and S3. The task tokens in the
samples belong to no execution, so moto answers the workers' callbacks the way Step Functions answers
a stale token.
"""

from __future__ import annotations

import importlib
import io
import json
from collections.abc import Iterator
from uuid import UUID

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storywink.db.tables import Book, BookEvent, JobRun, Page
from storywink.domain.enums import BookStatus, JobStatus, JobStep, ModerationStatus
from storywink.local.lambda_runtime import LocalLambdaContext
from storywink.local.samples import (
    advance,
    generating,
    illustrating,
    page_ok,
    set_body,
    sqs_sample,
    with_task_token,
)
from storywink.storage import keys

NO_FAILURES = {"batchItemFailures": []}
FUNCTIONS = {
    "story_worker": "StoryWorkerFunction",
    "illustration_worker": "IllustrationWorkerFunction",
    "finalize_worker": "FinalizeWorkerFunction",
    "pdf_worker": "PdfWorkerFunction",
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def step_functions_callbacks(aws_environment: str) -> Iterator[list[tuple[str, str]]]:
    """moto's Step Functions engine on (it answers an unknown task token as AWS does, where the default
    backend accepts any token); yields (operation, error code) for every callback the workers make."""
    from moto.core.config import default_user_config

    from storywink.wiring import container

    config_url = f"{aws_environment}/moto-api/config"
    # The session's moto server runs in this process; its config API can set this setting but not report it.
    previous = dict(default_user_config["stepfunctions"])
    httpx.post(config_url, json={"stepfunctions": {"execute_state_machine": True}}).raise_for_status()
    calls: list[tuple[str, str]] = []

    def record(model, parsed, **_) -> None:  # type: ignore[no-untyped-def]
        calls.append((model.name, parsed.get("Error", {}).get("Code", "")))

    events = container().aws("stepfunctions").meta.events
    events.register("after-call.sfn", record)
    yield calls
    events.unregister("after-call.sfn", record)
    httpx.post(config_url, json={"stepfunctions": previous}).raise_for_status()


def invoke(worker: str, event: dict) -> dict:
    """Import the handler module from CodeUri (functions/) and call it with a Lambda context, as the runtime does."""
    return importlib.import_module(worker).handler(event, LocalLambdaContext(FUNCTIONS[worker]))


def reload_book(session: Session, book_id: str) -> Book:
    session.expire_all()
    book = session.get(Book, UUID(book_id))
    assert book is not None
    return book


def pages_of(session: Session, book_id: str) -> list[Page]:
    session.expire_all()
    return list(session.scalars(select(Page).where(Page.book_id == UUID(book_id)).order_by(Page.page_number)))


def job_runs(session: Session, book_id: str) -> list[JobRun]:
    session.expire_all()
    return list(session.scalars(select(JobRun).where(JobRun.book_id == UUID(book_id))))


def event_count(session: Session, book_id: str) -> int:
    return session.scalar(select(func.count()).select_from(BookEvent).where(BookEvent.book_id == UUID(book_id)))


def page_ids(book: dict) -> list[str]:
    return [page["id"] for page in sorted(book["pages"], key=lambda page: page["pageNumber"])]


@pytest.mark.parametrize(
    ("auto_illustrate", "next_status"), [(True, BookStatus.ILLUSTRATING), (False, BookStatus.STORY_READY)]
)
def test_story_event_writes_every_page_and_moves_the_book_on(
    book_with_photos, session, auto_illustrate, next_status
):
    book = book_with_photos(3, autoIllustrate=auto_illustrate)
    advance(session, book["id"], generating())

    response = invoke("story_worker", sqs_sample("story_worker.json", book["id"]))

    assert response == NO_FAILURES
    stored = reload_book(session, book["id"])
    assert stored.status == next_status
    assert stored.prompt_tokens + stored.completion_tokens > 0
    pages = pages_of(session, book["id"])
    assert len(pages) == 3
    assert all(page.text and page.illustration_notes for page in pages)
    [job] = job_runs(session, book["id"])
    assert (job.step, job.status, job.provider) == (JobStep.STORY, JobStatus.SUCCEEDED, "offline")


def test_the_story_completed_event_carries_progress_with_the_story_written(book_with_photos, session):
    book = book_with_photos(2)
    advance(session, book["id"], generating())

    invoke("story_worker", sqs_sample("story_worker.json", book["id"]))

    session.expire_all()
    completed = session.scalars(
        select(BookEvent).where(BookEvent.book_id == UUID(book["id"]), BookEvent.type == "story.completed")
    ).one()
    assert completed.payload["progress"]["storyGeneration"] == {"started": True, "completed": True, "error": None}


def test_illustration_event_draws_the_page_and_stores_a_png(book_with_photos, session, media):
    book = book_with_photos(2)
    advance(session, book["id"], generating(), illustrating())
    first_page = page_ids(book)[0]

    response = invoke("illustration_worker", sqs_sample("illustration_worker.json", book["id"], [first_page]))

    assert response == NO_FAILURES
    page, other = pages_of(session, book["id"])
    key = keys.illustration_key(book["id"], first_page)
    assert (page.moderation_status, page.illustration_key) == (ModerationStatus.OK, key)
    assert other.moderation_status == ModerationStatus.PENDING
    assert media.read(key).startswith(PNG_SIGNATURE)
    [job] = job_runs(session, book["id"])
    assert (job.step, job.status, job.page_id) == (JobStep.ILLUSTRATION, JobStatus.SUCCEEDED, UUID(first_page))


def test_finalize_event_fails_the_unfinished_page_and_reports_partial(book_with_photos, session):
    book = book_with_photos(3)
    ids = page_ids(book)
    advance(session, book["id"], generating(), illustrating(), page_ok(ids[0]), page_ok(ids[1]))

    response = invoke("finalize_worker", sqs_sample("finalize_worker.json", book["id"], ids))

    assert response == NO_FAILURES
    pages = pages_of(session, book["id"])
    assert [page.moderation_status for page in pages] == [
        ModerationStatus.OK,
        ModerationStatus.OK,
        ModerationStatus.FAILED,
    ]
    assert pages[2].moderation_reason == "Provider.Transient: The illustration service is busy (HTTP 503)."
    # PARTIAL is the PDF step's to set; finalize only decides it and reports it to the state machine.
    assert reload_book(session, book["id"]).status == BookStatus.ILLUSTRATING
    [job] = job_runs(session, book["id"])
    assert (job.step, job.status, job.output) == (JobStep.FINALIZE, JobStatus.SUCCEEDED, {"status": "PARTIAL"})


def test_fail_event_fails_the_book_and_its_pending_pages(book_with_photos, session):
    book = book_with_photos(3)
    ids = page_ids(book)
    advance(session, book["id"], generating(), illustrating(), page_ok(ids[0]))

    response = invoke("finalize_worker", sqs_sample("finalize_worker_fail.json", book["id"]))

    assert response == NO_FAILURES
    reason = "Provider.Permanent: The photo could not be read: cannot identify image file"
    stored = reload_book(session, book["id"])
    assert (stored.status, stored.status_reason) == (BookStatus.FAILED, reason)
    pages = pages_of(session, book["id"])
    assert [(page.moderation_status, page.moderation_reason) for page in pages] == [
        (ModerationStatus.OK, None),
        (ModerationStatus.FAILED, reason),
        (ModerationStatus.FAILED, reason),
    ]
    [job] = job_runs(session, book["id"])
    assert (job.step, job.status, job.output) == (JobStep.FINALIZE, JobStatus.SUCCEEDED, {"status": "FAILED"})


def test_pdf_event_stores_the_book_pdf_and_completes_the_book(book_with_photos, session, media):
    from pypdf import PdfReader

    book = book_with_photos(3)
    ids = page_ids(book)
    advance(session, book["id"], generating(), illustrating(), *[page_ok(page_id) for page_id in ids])

    response = invoke("pdf_worker", sqs_sample("pdf_worker.json", book["id"]))

    assert response == NO_FAILURES
    stored = reload_book(session, book["id"])
    assert (stored.status, stored.pdf_key) == (BookStatus.COMPLETED, keys.pdf_key(book["id"]))
    assert len(PdfReader(io.BytesIO(media.read(stored.pdf_key))).pages) == 1 + len(ids)
    [job] = job_runs(session, book["id"])
    assert (job.step, job.status) == (JobStep.PDF, JobStatus.SUCCEEDED)


MALFORMED_BODIES = {
    "not JSON": "taskToken=AQCEAAAA&bookId=3f2b8c1e",
    "no task token": json.dumps({"bookId": "{book_id}", "correlationId": "Jk3lQgYbIAMEbyw=", "attempt": 1}),
}


@pytest.mark.parametrize("body", MALFORMED_BODIES.values(), ids=MALFORMED_BODIES.keys())
def test_malformed_message_is_reported_for_redelivery_and_changes_nothing(book_with_photos, session, body):
    """A poison message fails alone: SQS redelivers it (and finally dead-letters it) while its batch moves on."""
    poisoned, healthy = book_with_photos(3), book_with_photos(3)
    advance(session, poisoned["id"], generating())
    advance(session, healthy["id"], generating())
    events_before = event_count(session, poisoned["id"])
    event = sqs_sample("finalize_worker_fail.json", healthy["id"])
    bad = json.loads(json.dumps(event["Records"][0]))
    bad["messageId"] = "2b7d6c9a-8e0f-4a2b-9c3d-5f6a7b8c9d0e"
    set_body(bad, body.replace("{book_id}", poisoned["id"]))
    event["Records"].insert(0, bad)

    response = invoke("finalize_worker", event)

    assert response == {"batchItemFailures": [{"itemIdentifier": bad["messageId"]}]}
    assert reload_book(session, poisoned["id"]).status == BookStatus.GENERATING
    assert event_count(session, poisoned["id"]) == events_before
    assert job_runs(session, poisoned["id"]) == []
    assert reload_book(session, healthy["id"]).status == BookStatus.FAILED


def test_malformed_message_alone_fails_the_invocation_and_changes_nothing(book_with_photos, session):
    """A batch whose every record fails is a function error (as Powertools' processor makes it): SQS redelivers
    it all the same."""
    from storywink.pipeline.sqs_batch import EveryRecordFailed

    book = book_with_photos(2)
    advance(session, book["id"], generating(), illustrating())
    events_before = event_count(session, book["id"])
    event = sqs_sample("illustration_worker.json", book["id"], page_ids(book))
    body = json.loads(event["Records"][0]["body"])
    del body["taskToken"]
    set_body(event["Records"][0], json.dumps(body, separators=(",", ":")))

    with pytest.raises(EveryRecordFailed):
        invoke("illustration_worker", event)

    assert [page.moderation_status for page in pages_of(session, book["id"])] == [ModerationStatus.PENDING] * 2
    assert event_count(session, book["id"]) == events_before
    assert job_runs(session, book["id"]) == []


def test_same_event_delivered_twice_changes_nothing_the_second_time(book_with_photos, session, media):
    book = book_with_photos(2)
    advance(session, book["id"], generating(), illustrating())
    event = sqs_sample("illustration_worker.json", book["id"], page_ids(book))
    assert invoke("illustration_worker", event) == NO_FAILURES
    events_after_first = event_count(session, book["id"])
    seq_after_first = reload_book(session, book["id"]).last_event_seq

    redelivered = json.loads(json.dumps(event))
    redelivered["Records"][0]["attributes"]["ApproximateReceiveCount"] = "2"
    assert invoke("illustration_worker", redelivered) == NO_FAILURES

    [job] = job_runs(session, book["id"])
    assert (job.status, job.deliveries) == (JobStatus.SUCCEEDED, 2)
    listing = media.s3.list_objects_v2(Bucket=media.bucket, Prefix=f"{keys.book_prefix(book['id'])}illustrations/")
    assert [item["Key"] for item in listing["Contents"]] == [keys.illustration_key(book["id"], page_ids(book)[0])]
    assert event_count(session, book["id"]) == events_after_first
    assert reload_book(session, book["id"]).last_event_seq == seq_after_first


def test_sample_task_token_is_answered_as_stale_and_the_step_still_succeeds(
    book_with_photos, session, step_functions_callbacks
):
    book = book_with_photos(2)
    advance(session, book["id"], generating())

    response = invoke("story_worker", sqs_sample("story_worker.json", book["id"]))

    assert response == NO_FAILURES
    assert step_functions_callbacks == [("SendTaskSuccess", "InvalidToken")]
    [job] = job_runs(session, book["id"])
    assert job.status == JobStatus.SUCCEEDED


def test_two_copies_processed_at_once_leave_exactly_one_result(book_with_photos, session, media):
    """SQS can hand the same message to two pollers at once: one does the work, the other is refused
    (and redelivered later, when it replays the recorded outcome)."""
    import threading

    book = book_with_photos(1)
    page = page_ids(book)[0]
    advance(session, book["id"], generating(), illustrating())
    event = sqs_sample("illustration_worker.json", book["id"], [page])
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    start = threading.Barrier(2)
    responses: list[object] = []

    def deliver() -> None:
        start.wait()
        try:
            responses.append(invoke("illustration_worker", json.loads(json.dumps(event))))
        except BatchProcessingError:  # a one-record batch whose record failed: the invocation errors
            responses.append("refused")

    copies = [threading.Thread(target=deliver) for _ in range(2)]
    for copy in copies:
        copy.start()
    for copy in copies:
        copy.join()
    responses.append(invoke("illustration_worker", event))  # the refused copy's redelivery

    assert NO_FAILURES in responses[:2]
    (run,) = job_runs(session, book["id"])
    assert run.status == JobStatus.SUCCEEDED and run.deliveries == 3
    assert [p.moderation_status for p in pages_of(session, book["id"])] == [ModerationStatus.OK]
    listing = media.s3.list_objects_v2(Bucket=media.bucket, Prefix=f"books/{book['id']}/illustrations/")
    assert listing["KeyCount"] == 1
    assert event_count(session, book["id"]) == 4  # generating, illustrating, work.started, page.illustrated: once


def test_a_late_story_message_never_overwrites_the_parents_edits(client, auth, book_with_photos, session):
    book = book_with_photos(2, autoIllustrate=False)
    advance(session, book["id"], generating())
    assert invoke("story_worker", sqs_sample("story_worker.json", book["id"])) == NO_FAILURES
    edited = page_ids(book)[0]
    client.patch(f"/v1/books/{book['id']}/pages/{edited}", json={"text": "Our own words."}, headers=auth())
    late = with_task_token(sqs_sample("story_worker.json", book["id"]), "a-timed-out-attempts-token")
    assert invoke("story_worker", late) == NO_FAILURES
    assert pages_of(session, book["id"])[0].text == "Our own words."
    assert reload_book(session, book["id"]).status == BookStatus.STORY_READY


def test_a_message_from_an_earlier_generation_is_dropped(book_with_photos, session):
    book = book_with_photos(1)
    advance(session, book["id"], generating())
    stored = reload_book(session, book["id"])
    stored.generation_attempt = 2  # a newer generation started since the sample's attempt 1
    session.commit()
    assert invoke("story_worker", sqs_sample("story_worker.json", book["id"])) == NO_FAILURES
    (run,) = job_runs(session, book["id"])
    assert (run.status, run.error_code) == (JobStatus.FAILED, "Worker.StaleAttempt")
    assert all(page.text is None for page in pages_of(session, book["id"]))


def test_an_illustrated_page_is_not_drawn_again(book_with_photos, session, media):
    book = book_with_photos(1)
    page = page_ids(book)[0]
    advance(session, book["id"], generating(), illustrating())
    assert invoke("illustration_worker", sqs_sample("illustration_worker.json", book["id"], [page])) == NO_FAILURES
    key = keys.illustration_key(book["id"], page)
    first = media.s3.head_object(Bucket=media.bucket, Key=key)["LastModified"]
    late = with_task_token(sqs_sample("illustration_worker.json", book["id"], [page]), "another-attempts-token")
    assert invoke("illustration_worker", late) == NO_FAILURES
    assert media.s3.head_object(Bucket=media.bucket, Key=key)["LastModified"] == first
    runs = job_runs(session, book["id"])
    assert sorted(r.provider or "" for r in runs) == ["", "offline"]  # the second one called no provider


class WatchingStoryProvider:
    """Writes a story like the offline provider and notes how many connections the pool has out meanwhile."""

    name = "watching"

    def __init__(self, database) -> None:  # type: ignore[no-untyped-def]
        self.database = database
        self.checked_out: list[int] = []

    def write_story(self, request):  # type: ignore[no-untyped-def]
        from storywink.providers.offline.story import OfflineStoryProvider

        self.checked_out.append(self.database.checked_out())
        return OfflineStoryProvider().write_story(request)


class WatchingIllustrationProvider(WatchingStoryProvider):
    def illustrate(self, request):  # type: ignore[no-untyped-def]
        from storywink.providers.offline.illustration import OfflineIllustrationProvider

        self.checked_out.append(self.database.checked_out())
        return OfflineIllustrationProvider().illustrate(request)


def test_the_story_provider_is_called_with_no_database_connection_checked_out(book_with_photos, session, monkeypatch):
    from storywink.wiring import container

    book = book_with_photos(2)
    advance(session, book["id"], generating())
    session.close()  # the test's own session gives its connection back too
    deps = container()
    provider = WatchingStoryProvider(deps.database)
    monkeypatch.setitem(deps.__dict__, "story_provider", provider)

    assert invoke("story_worker", sqs_sample("story_worker.json", book["id"])) == NO_FAILURES

    assert provider.checked_out == [0]
    assert reload_book(session, book["id"]).status == BookStatus.ILLUSTRATING


def test_the_illustration_provider_is_called_with_no_database_connection_checked_out(
    book_with_photos, session, monkeypatch
):
    from storywink.wiring import container

    book = book_with_photos(1)
    advance(session, book["id"], generating(), illustrating())
    session.close()
    deps = container()
    provider = WatchingIllustrationProvider(deps.database)
    monkeypatch.setitem(deps.__dict__, "illustration_provider", provider)

    event = sqs_sample("illustration_worker.json", book["id"], page_ids(book))
    assert invoke("illustration_worker", event) == NO_FAILURES

    assert provider.checked_out == [0]
    assert [page.moderation_status for page in pages_of(session, book["id"])] == [ModerationStatus.OK]


def test_a_result_that_arrives_after_the_task_was_taken_over_changes_nothing(book_with_photos, session, monkeypatch):
    """The worker's lease ran out while it drew (another delivery took the task over): its late result is dropped."""
    from storywink.wiring import container

    book = book_with_photos(1)
    advance(session, book["id"], generating(), illustrating())
    session.close()
    deps = container()

    class TakenOverMeanwhile(WatchingIllustrationProvider):
        def illustrate(self, request):  # type: ignore[no-untyped-def]
            with deps.database.unit_of_work() as other:
                (run,) = other.execute(select(JobRun).where(JobRun.book_id == UUID(book["id"]))).scalars()
                run.lease_owner = UUID(int=1)  # another delivery holds it now
            return super().illustrate(request)

    monkeypatch.setitem(deps.__dict__, "illustration_provider", TakenOverMeanwhile(deps.database))
    assert invoke("illustration_worker", sqs_sample("illustration_worker.json", book["id"], page_ids(book))) == NO_FAILURES

    assert [page.moderation_status for page in pages_of(session, book["id"])] == [ModerationStatus.PENDING]
    (run,) = job_runs(session, book["id"])
    assert run.status == JobStatus.RUNNING and run.lease_owner == UUID(int=1)
