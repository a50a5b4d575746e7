"""Faults lose nothing and count nothing twice: throttling, refusals, permanent errors, crashes, poison messages."""

from __future__ import annotations

import threading
import uuid

import boto3
import pytest
from sqlalchemy import select

from storywink.db.tables import JobRun
from storywink.domain.enums import JobStep
from storywink.storage import keys

FINAL = {"COMPLETED", "PARTIAL", "FAILED"}


@pytest.fixture
def sfn(stack):
    return boto3.client("stepfunctions", endpoint_url=stack.moto_endpoint, region_name="us-east-1")


@pytest.fixture
def s3(stack):
    return boto3.client("s3", endpoint_url=stack.moto_endpoint, region_name="us-east-1")


def executions_of(sfn, stack, book_id: str) -> list[dict]:
    arn = stack.resources.state_machines["BookGenerationStateMachine"]
    return [e for e in sfn.list_executions(stateMachineArn=arn)["executions"] if e["name"].startswith(book_id)]


def assert_settled(parent, sfn, stack, book_id: str) -> dict:
    """Every execution of the book has ended, and the book is in a final status."""
    progress = parent.wait_for(book_id, FINAL)
    for execution in executions_of(sfn, stack, book_id):
        status = sfn.describe_execution(executionArn=execution["executionArn"])["status"]
        assert status != "RUNNING" or progress["status"] in FINAL
    return progress


def fail_pages(settings, kind: str, *page_ids: str, **extra: str) -> None:
    """Make the illustration provider fail these pages with this kind of error (CHAOS_* settings)."""
    settings.set(CHAOS_STEPS="illustration", CHAOS_PAGES=",".join(page_ids), CHAOS_ERROR_KIND=kind, **extra)


def illustration_runs(session, page_id: str) -> list[JobRun]:
    session.expire_all()
    return list(
        session.execute(select(JobRun).where(JobRun.page_id == page_id, JobRun.step == JobStep.ILLUSTRATION)).scalars()
    )


def test_books_complete_despite_thirty_percent_transient_failures(api, stack, sfn, sample_photos, settings):
    settings.set(CHAOS_FAILURE_RATE="0.3", CHAOS_ERROR_KIND="transient", CHAOS_SEED="7")
    parent = api("parent")
    books = [parent.make_book(sample_photos[:3]) for _ in range(2)]
    for book in books:
        parent("POST", f"/v1/books/{book['id']}/generate", 202)
    for book in books:
        assert assert_settled(parent, sfn, stack, book["id"])["status"] == "COMPLETED"


def test_a_transient_fault_is_retried_with_a_fresh_task_until_it_passes(api, stack, sfn, sample_photos, session, settings):
    parent = api("parent")
    book = parent.make_book(sample_photos[:2])
    flaky = book["pages"][1]["id"]
    fail_pages(settings, "transient", flaky, CHAOS_TRANSIENT_ATTEMPTS="2")
    parent("POST", f"/v1/books/{book['id']}/generate", 202)
    assert assert_settled(parent, sfn, stack, book["id"])["status"] == "COMPLETED"
    runs = sorted(illustration_runs(session, flaky), key=lambda r: r.attempt)
    assert [(r.attempt, r.status.value, r.error_code) for r in runs] == [
        (1, "FAILED", "Provider.Transient"),
        (2, "FAILED", "Provider.Transient"),
        (3, "SUCCEEDED", None),
    ]
    assert len({r.task_token_hash for r in runs}) == 3  # each retry was a new task with a new token


def test_a_content_policy_refusal_flags_the_page_and_retry_leaves_it_alone(api, stack, sfn, sample_photos, session, settings):
    parent = api("parent")
    book = parent.make_book(sample_photos[:3])
    refused = book["pages"][2]["id"]
    fail_pages(settings, "content-policy", refused)
    parent("POST", f"/v1/books/{book['id']}/generate", 202)
    progress = assert_settled(parent, sfn, stack, book["id"])
    assert progress["status"] == "PARTIAL"
    assert progress["illustrations"] == {"total": 3, "completed": 2, "failed": 1, "inProgress": 0}
    page = next(p for p in parent("GET", f"/v1/books/{book['id']}")["pages"] if p["id"] == refused)
    assert page["moderationStatus"] == "FLAGGED" and "content-policy" in page["moderationReason"]
    assert len(illustration_runs(session, refused)) == 1  # never retried
    assert parent("GET", f"/v1/books/{book['id']}/pdf")["url"]  # a partial book still has its PDF

    error = parent("POST", f"/v1/books/{book['id']}/retry", 422)["error"]
    assert error["code"] == "NOTHING_TO_RETRY"
    assert len(illustration_runs(session, refused)) == 1


def test_retry_redoes_only_failed_pages_and_completes_the_book(api, stack, sfn, s3, sample_photos, session, settings):
    parent = api("parent")
    book = parent.make_book(sample_photos[:3])
    broken = book["pages"][0]["id"]
    fail_pages(settings, "permanent", broken)
    parent("POST", f"/v1/books/{book['id']}/generate", 202)
    assert assert_settled(parent, sfn, stack, book["id"])["status"] == "PARTIAL"
    bucket = stack.resources.buckets["MediaBucket"]
    ok_pages = [p["id"] for p in book["pages"] if p["id"] != broken]
    before = {pid: s3.head_object(Bucket=bucket, Key=keys.illustration_key(book["id"], pid)) for pid in ok_pages}
    assert [r.error_code for r in illustration_runs(session, broken)] == ["Provider.Permanent"]

    settings.unset("CHAOS_PAGES")  # the provider recovers
    started = parent("POST", f"/v1/books/{book['id']}/retry", 202)
    assert started["mode"] == "REDO_PAGES"
    assert assert_settled(parent, sfn, stack, book["id"])["status"] == "COMPLETED"
    for pid in ok_pages:  # not regenerated: one job each, the same object as before
        after = s3.head_object(Bucket=bucket, Key=keys.illustration_key(book["id"], pid))
        assert (after["ETag"], after["LastModified"]) == (before[pid]["ETag"], before[pid]["LastModified"])
        assert len(illustration_runs(session, pid)) == 1
    assert [r.status.value for r in sorted(illustration_runs(session, broken), key=lambda r: r.started_at)] == [
        "FAILED", "SUCCEEDED",
    ]


def test_a_poison_message_is_dead_lettered_and_the_book_fails_promptly(api, stack, sfn, sample_photos, session, settings):
    settings.set(CRASH_AT="story.after_provider", CRASH_TIMES="1000")  # every delivery crashes
    parent = api("parent")
    book = parent.make_book(sample_photos[:1])
    parent("POST", f"/v1/books/{book['id']}/generate", 202)
    progress = parent.wait_for(book["id"], FINAL, timeout=60)  # heartbeat timeout would be 15 minutes
    assert progress["status"] == "FAILED"
    session.expire_all()
    story = session.execute(select(JobRun).where(JobRun.book_id == book["id"], JobRun.step == JobStep.STORY)).scalar_one()
    assert story.status.value == "DEAD_LETTERED" and story.error_code == "Worker.DeadLettered"
    assert "dead-lettered" in story.error_message
    assert progress["storyGeneration"]["error"] == story.error_message
    (execution,) = executions_of(sfn, stack, book["id"])
    assert sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "FAILED"


def test_a_worker_that_crashes_after_uploading_converges_without_duplicates(
    api, stack, sfn, s3, sample_photos, session, settings
):
    settings.set(CRASH_AT="illustration.after_upload", CRASH_TIMES="1")
    parent = api("parent")
    book = parent.make_book(sample_photos[:2])
    parent("POST", f"/v1/books/{book['id']}/generate", 202)
    assert assert_settled(parent, sfn, stack, book["id"])["status"] == "COMPLETED"
    bucket = stack.resources.buckets["MediaBucket"]
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=f"books/{book['id']}/illustrations/")
    assert len(listing["Contents"]) == 2  # one object per page, however many deliveries
    for page in book["pages"]:
        (run,) = illustration_runs(session, page["id"])
        assert run.status.value == "SUCCEEDED" and run.deliveries == 2


def test_double_retry_starts_one_execution(api, stack, sfn, sample_photos, settings):
    parent = api("parent")
    book = parent.make_book(sample_photos[:2])
    fail_pages(settings, "permanent", book["pages"][0]["id"])
    parent("POST", f"/v1/books/{book['id']}/generate", 202)
    assert assert_settled(parent, sfn, stack, book["id"])["status"] == "PARTIAL"
    settings.unset("CHAOS_PAGES")

    responses = []
    calls = [threading.Thread(target=lambda: responses.append(parent.http.post(f"/v1/books/{book['id']}/retry")))
             for _ in range(2)]
    for call in calls:
        call.start()
    for call in calls:
        call.join()
    assert sorted(r.status_code for r in responses) == [202, 409]
    assert assert_settled(parent, sfn, stack, book["id"])["status"] == "COMPLETED"
    assert len(executions_of(sfn, stack, book["id"])) == 2  # the generation and one retry


def test_a_repeated_idempotency_key_replays_the_first_response(api, stack, sfn, sample_photos):
    parent = api("parent")
    book = parent.make_book(sample_photos[:1])
    headers = {"Idempotency-Key": "generate-once-42"}
    first = parent.http.post(f"/v1/books/{book['id']}/generate", headers=headers)
    second = parent.http.post(f"/v1/books/{book['id']}/generate", headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json() and second.headers["Idempotent-Replayed"] == "true"
    assert_settled(parent, sfn, stack, book["id"])
    assert len(executions_of(sfn, stack, book["id"])) == 1
    reused = parent.http.post(f"/v1/books/{book['id']}/retry", headers=headers)
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_a_book_whose_execution_ended_without_settling_it_can_start_again(api, stack, sfn, sample_photos, session):
    from storywink.db.tables import Book
    from storywink.domain.enums import BookStatus
    from storywink.services.status import BookStatusService, StatusUpdate

    parent = api("parent")
    finished = parent.make_book(sample_photos[:1])
    ended_arn = parent("POST", f"/v1/books/{finished['id']}/generate", 202)["executionArn"]
    assert_settled(parent, sfn, stack, finished["id"])
    stuck = parent.make_book(sample_photos[:1])
    # A book left GENERATING by an execution that is over (stopped by an operator, say).
    stuck_id = uuid.UUID(stuck["id"])
    BookStatusService(session).update_status(stuck_id, StatusUpdate("generation.started", book_status=BookStatus.GENERATING))
    session.get(Book, stuck_id).execution_arn = ended_arn
    session.commit()
    started = parent("POST", f"/v1/books/{stuck['id']}/generate", 202)
    assert started["attempt"] == 1
    assert assert_settled(parent, sfn, stack, stuck["id"])["status"] == "COMPLETED"
