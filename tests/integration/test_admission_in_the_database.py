"""Books waiting for capacity: their place in line in GET /status, on the database, through the real
start route and the real claim of a task (there is no state machine here: the launch does nothing, and
a test claims a task the way a worker's first transaction does)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from storywink.db.tables import Book, BookEvent, JobRun
from storywink.domain.enums import BookStatus, JobStatus, JobStep
from storywink.pipeline.illustrate import IllustratePage
from storywink.pipeline.jobs import claim_job
from storywink.pipeline.messages import IllustrationTask, StoryTask
from storywink.pipeline.story import WriteStory
from storywink.services import generation
from storywink.services.status import BookStatusService, StatusUpdate
from storywink.wiring import container

STATE_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:books"


@pytest.fixture
def capacity(reconfigure, monkeypatch):
    """Small lines: 2 stories and 2 pages at a time in each, 4 pages of a book sent at once, 30 s a story
    and 40 s a page before there is history. Starts plan for real and launch nothing."""
    reconfigure(
        STATE_MACHINE_ARN=STATE_MACHINE,
        STORY_CONCURRENCY=2,
        PRIORITY_STORY_CONCURRENCY=2,
        ILLUSTRATION_CONCURRENCY=2,
        PRIORITY_ILLUSTRATION_CONCURRENCY=2,
        ILLUSTRATION_MAX_CONCURRENCY=4,
        STORY_SECONDS_PER_REQUEST=30,
        ILLUSTRATION_SECONDS_PER_REQUEST=40,
    )
    monkeypatch.setattr(generation.Generation, "launch", lambda self, planned: None)


@pytest.fixture
def start(client, auth, capacity):
    def generate(book: dict, user: str = "alice", plan: str = "free") -> None:
        response = client.post(f"/v1/books/{book['id']}/generate", headers=auth(user, plan=plan))
        assert response.status_code == 202, response.text

    return generate


@pytest.fixture
def status(client, auth):
    def read(book: dict, user: str = "alice", plan: str = "free") -> dict:
        response = client.get(f"/v1/books/{book['id']}/status", headers=auth(user, plan=plan))
        assert response.status_code == 200, response.text
        return response.json()

    return read


def claim(step, task) -> None:  # type: ignore[no-untyped-def]
    """A worker's first transaction: claim the task, then prepare the step."""
    deps = container()
    with deps.database.unit_of_work() as session:
        claim_job(
            session,
            step=step.kind,
            book_id=task.book_id,
            page_id=getattr(task, "page_id", None),
            task_token=task.task_token,
            attempt=1,
            message_id=None,
            lease_seconds=60,
        )
        step.prepare(session, task)


def claim_story(book: dict) -> None:
    deps = container()
    claim(WriteStory(deps.media, deps.story_provider), StoryTask(task_token=uuid.uuid4().hex, book_id=book["id"]))


def claim_page(book: dict, page_id: str) -> None:
    deps = container()
    task = IllustrationTask(task_token=uuid.uuid4().hex, book_id=book["id"], page_id=page_id)
    claim(IllustratePage(deps.media, deps.illustration_provider), task)


def events(session, book: dict) -> list[BookEvent]:
    session.expire_all()
    query = select(BookEvent).where(BookEvent.book_id == uuid.UUID(book["id"])).order_by(BookEvent.seq)
    return list(session.scalars(query))


def illustrating(session, book: dict) -> None:
    """The story is written and the book goes straight on to its illustrations."""
    BookStatusService(session).update_status(
        uuid.UUID(book["id"]), StatusUpdate("story.completed", book_status=BookStatus.ILLUSTRATING)
    )
    session.commit()


def test_waiting_books_are_placed_premium_first_then_in_the_order_they_started(
    book_with_photos, start, status, session
):
    first, second, third = book_with_photos(1), book_with_photos(1), book_with_photos(1)
    premium = book_with_photos(1, user="bob")
    start(first)
    start(second)
    start(premium, user="bob", plan="premium")
    start(third)

    assert [status(book)["queue"] for book in (first, second, third)] == [
        {"position": 1, "estimatedStartSeconds": 30},
        {"position": 2, "estimatedStartSeconds": 30},  # two stories at a time: in the first round too
        {"position": 3, "estimatedStartSeconds": 60},
    ]
    # Started after two free books, yet first in line: premium books never wait behind free ones.
    assert status(premium, user="bob", plan="premium")["queue"] == {"position": 1, "estimatedStartSeconds": 30}
    (started,) = [event for event in events(session, premium) if event.type == "generation.started"]
    assert started.payload["progress"]["queue"]["position"] == 1  # pushed in its own line from the start


def test_the_position_disappears_when_the_books_first_task_is_claimed(book_with_photos, start, status, session):
    first, second = book_with_photos(1), book_with_photos(1)
    start(first)
    start(second)

    claim_story(first)

    started = status(first)
    assert "queue" not in started and started["storyGeneration"]["started"] is True
    assert status(second)["queue"]["position"] == 1  # the book behind moved up
    waited, left = events(session, first)[-2:]
    assert (waited.type, waited.payload["progress"]["queue"]["position"]) == ("generation.started", 1)
    assert left.type == "work.started" and left.payload["step"] == "STORY" and "queue" not in left.payload["progress"]


def test_a_book_leaves_its_line_once_whichever_of_its_tasks_is_claimed_first(book_with_photos, start, status, session):
    book = book_with_photos(3)
    start(book)
    claim_story(book)
    illustrating(session, book)
    assert status(book)["queue"]["position"] == 1  # waiting again, now for illustration capacity

    for page in book["pages"]:
        claim_page(book, page["id"])

    assert "queue" not in status(book)
    assert [event.type for event in events(session, book)].count("work.started") == 2  # story, then illustration


def test_an_illustrating_book_waits_behind_the_pages_the_books_ahead_have_queued(book_with_photos, start, status, session):
    big, small = book_with_photos(5), book_with_photos(1)
    for book in (big, small):
        start(book)
        claim_story(book)
        illustrating(session, book)

    assert status(big)["queue"] == {"position": 1, "estimatedStartSeconds": 40}
    # Behind 4 of the big book's 5 pages (the Map sends 4 at once): its page is the 5th, in round 3 of 2.
    assert status(small)["queue"] == {"position": 2, "estimatedStartSeconds": 3 * 40}


def test_the_estimate_follows_the_mean_duration_of_the_steps_latest_runs(book_with_photos, start, status, session):
    earlier = book_with_photos(1)
    finished = datetime.now(UTC) - timedelta(minutes=5)
    for seconds, provider in ((10, "offline"), (20, "offline"), (0, None)):  # a replayed duplicate did no work
        session.add(
            JobRun(book_id=uuid.UUID(earlier["id"]), step=JobStep.STORY, status=JobStatus.SUCCEEDED,
                   provider=provider, duration_ms=seconds * 1000, finished_at=finished)
        )
    session.commit()
    book = book_with_photos(1)
    start(book)

    assert status(book)["queue"] == {"position": 1, "estimatedStartSeconds": 15}


def test_a_book_that_stops_running_leaves_its_line(book_with_photos, start, status, session):
    book = book_with_photos(1)
    start(book)
    BookStatusService(session).update_status(
        uuid.UUID(book["id"]), StatusUpdate("book.failed", book_status=BookStatus.FAILED, reason="stopped")
    )
    session.commit()

    assert "queue" not in status(book)
    session.expire_all()
    assert session.get(Book, uuid.UUID(book["id"])).queued_at is None
