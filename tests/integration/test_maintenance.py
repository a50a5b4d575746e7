"""The maintenance job on the embedded PostgreSQL and moto (S3, Step Functions): book_events partitions made
ahead and dropped past retention, retention deletes, the media sweep and stuck-book repair; a second run
changes nothing more, and two runs at once are safe."""

from __future__ import annotations

import importlib
import threading
import uuid
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from sqlalchemy import create_engine, func, select, text

from storywink.db import migrate, partitions
from storywink.db.tables import Asset, Book, BookEvent, IdempotencyRecord, JobRun, UsageCounter, User
from storywink.domain.enums import BookStatus, JobStatus, JobStep
from storywink.local.lambda_runtime import LocalLambdaContext
from storywink.local.samples import load_sample
from storywink.maintenance.job import Maintenance, windows_from_days
from storywink.maintenance.media_sweep import MediaSweep
from storywink.maintenance.stuck_books import StuckBooks
from storywink.services.events import append_event
from storywink.storage import keys
from storywink.wiring import container

NOW = datetime.now(UTC)
DAY = timedelta(days=1)
RUN_SECONDS = 120.0
EVENT_CUTOFF = NOW - 180 * DAY
# In a month wholly before the events' cutoff (its partition is dropped), and in the month the cutoff falls in
# but before it (deleted row by row).
OLD_EVENT = NOW - 250 * DAY
STRADDLING_EVENT = partitions.month_start(EVENT_CUTOFF) + (EVENT_CUTOFF - partitions.month_start(EVENT_CUTOFF)) / 2


def maintenance(*, events=180, job_runs=365, idempotency=2, usage=2, objects_per_run=10_000, batch_rows=2_000) -> Maintenance:
    deps = container()
    return Maintenance(
        deps.database,
        StuckBooks(deps.database, deps.generation, books_per_run=200),
        MediaSweep(deps.database, deps.media, grace=timedelta(hours=24), objects_per_run=objects_per_run),
        windows=windows_from_days(events, job_runs, idempotency, usage),
        batch_rows=batch_rows,
    )


def add_book(session, status: BookStatus = BookStatus.DRAFT, *, owner: str = "alice", changed: datetime | None = None, **columns) -> Book:
    if session.get(User, owner) is None:
        session.add(User(id=owner))
        session.flush()
    book = Book(owner_id=owner, title="Milo", child_name="Milo", art_style="watercolor", **columns)
    session.add(book)
    session.flush()
    # Put in place as the steps before would have left it (statuses change through the status service only).
    session.execute(text("UPDATE books SET status = :status, updated_at = coalesce(:changed, updated_at) WHERE id = :id"),
                    {"status": status.value, "changed": changed, "id": book.id})
    session.commit()
    session.refresh(book)
    return book


def add_event(session, book: Book, seq: int, at: datetime) -> None:
    session.add(BookEvent(book_id=book.id, seq=seq, type="test", payload={}, created_at=at))


def add_run(session, book: Book, at: datetime, status: JobStatus = JobStatus.SUCCEEDED) -> None:
    session.add(JobRun(book_id=book.id, step=JobStep.STORY, status=status, started_at=at, finished_at=at))


def partition_of(session, book: Book, seq: int) -> str:
    name = session.execute(
        text("SELECT tableoid::regclass::text FROM book_events WHERE book_id = :b AND seq = :s"), {"b": book.id, "s": seq}
    ).scalar_one()
    session.commit()
    return name


def months(session) -> list[str]:
    names = sorted(partitions.month_partitions(session.connection(), "book_events").values())
    session.commit()
    return names


def count(session, model) -> int:
    session.expire_all()
    return session.execute(select(func.count()).select_from(model)).scalar_one()


# ---------------------------------------------------------------- partitions


def test_the_migration_partitions_book_events_keeping_every_row_and_downgrades_back(embedded_postgres):
    url = embedded_postgres.create_database("storywink_partition_migration", recreate=True)
    engine = create_engine(url)
    try:
        migrate.upgrade(url, "0009_scheduling_and_batches")
        book_id = uuid.uuid4()
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO users (id, plan, created_at, updated_at) VALUES ('ann', 'free', now(), now())"))
            connection.execute(
                text(
                    "INSERT INTO books (id, owner_id, title, child_name, art_style, auto_illustrate, status, prompt_tokens,"
                    " completion_tokens, generation_attempt, last_event_seq, created_at, updated_at)"
                    " VALUES (:b, 'ann', 't', 'c', 'watercolor', true, 'DRAFT', 0, 0, 0, 2, now(), now())"
                ),
                {"b": book_id},
            )
            for seq, at in ((1, NOW - 70 * DAY), (2, NOW)):
                connection.execute(
                    text("INSERT INTO book_events (book_id, seq, type, payload, created_at) VALUES (:b, :s, 't', '{}', :at)"),
                    {"b": book_id, "s": seq, "at": at},
                )

        migrate.upgrade(url)
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT seq, tableoid::regclass::text FROM book_events WHERE book_id = :b ORDER BY seq"), {"b": book_id}
            ).all()
            kind = connection.execute(text("SELECT relkind FROM pg_class WHERE relname = 'book_events'")).scalar_one()
            made = sorted(partitions.month_partitions(connection, "book_events"))
        assert kind == "p"
        assert rows == [
            (1, partitions.partition_name("book_events", partitions.month_start(NOW - 70 * DAY))),
            (2, partitions.partition_name("book_events", partitions.month_start(NOW))),
        ]
        first = partitions.month_start(NOW - 70 * DAY)
        assert made == [partitions.add_months(first, n) for n in range(len(made))]  # every month from the oldest row
        assert made[-1] == partitions.add_months(partitions.month_start(NOW), partitions.MONTHS_AHEAD)

        migrate.downgrade(url, "0009_scheduling_and_batches")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT seq FROM book_events ORDER BY seq")).scalars().all() == [1, 2]
            assert connection.execute(text("SELECT relkind FROM pg_class WHERE relname = 'book_events'")).scalar_one() == "r"
    finally:
        engine.dispose()
        embedded_postgres.drop_database("storywink_partition_migration")


def test_a_run_makes_this_months_partition_and_three_ahead_and_a_second_run_makes_none(session):
    later = NOW + 400 * DAY  # months no partition exists for yet
    first = maintenance().run(RUN_SECONDS, now=later)
    second = maintenance().run(RUN_SECONDS, now=later)

    expected = [partitions.partition_name("book_events", partitions.add_months(partitions.month_start(later), n)) for n in range(4)]
    assert first["partitions"]["created"] == expected
    assert second["partitions"]["created"] == []
    assert set(expected) <= set(months(session))


def test_an_event_of_a_month_without_a_partition_waits_in_the_default_one_and_moves_into_its_month(session):
    book = add_book(session)
    far = NOW + 600 * DAY
    add_event(session, book, 1, far)
    session.commit()
    assert partition_of(session, book, 1) == "book_events_default"

    maintenance().run(RUN_SECONDS, now=far)

    assert partition_of(session, book, 1) == partitions.partition_name("book_events", partitions.month_start(far))


def test_the_sequence_of_a_books_events_stays_gap_free_when_two_transactions_append_at_once(session):
    book = add_book(session)
    database = container().database
    first, second = database.sessions(), database.sessions()
    try:
        append_event(first, first.get(Book, book.id), "one", {})  # holds the book's row until it commits
        appended = threading.Thread(target=lambda: (append_event(second, second.get(Book, book.id), "two", {}), second.commit()))
        appended.start()
        appended.join(timeout=1)
        assert appended.is_alive()  # waits for the first
        first.commit()
        appended.join(timeout=10)
    finally:
        first.close()
        second.close()
    session.expire_all()
    assert session.execute(select(BookEvent.seq).where(BookEvent.book_id == book.id).order_by(BookEvent.seq)).scalars().all() == [1, 2]
    assert session.get(Book, book.id).last_event_seq == 2


# ---------------------------------------------------------------- retention


@pytest.fixture
def seeded(session):
    """Old and recent rows of every table retention looks after, with partitions for the old months."""
    for at in (OLD_EVENT, STRADDLING_EVENT):
        maintenance().run(RUN_SECONDS, now=at)  # their months' partitions, as runs back then made them
    old_done = add_book(session, BookStatus.COMPLETED, changed=NOW - 400 * DAY)
    recently_done = add_book(session, BookStatus.COMPLETED, changed=NOW - 5 * DAY)
    still_open = add_book(session, BookStatus.STORY_READY, changed=NOW - 400 * DAY)
    for seq, at in enumerate((OLD_EVENT, STRADDLING_EVENT, NOW - 10 * DAY), start=1):
        add_event(session, old_done, seq, at)
    for book in (old_done, recently_done, still_open):
        add_run(session, book, NOW - 400 * DAY)
    add_run(session, old_done, NOW - 40 * DAY)
    session.add_all(
        [
            IdempotencyRecord(user_id="alice", key="old", route="r", status_code=202, body={}, created_at=NOW - 3 * DAY),
            IdempotencyRecord(user_id="alice", key="new", route="r", status_code=202, body={}, created_at=NOW - DAY / 2),
            UsageCounter(user_id="alice", bucket="generations", window_start=NOW - 3 * DAY, count=1),
            UsageCounter(user_id="alice", bucket="generations", window_start=NOW - DAY / 24, count=1),
        ]
    )
    session.commit()
    return {"old_done": old_done, "recently_done": recently_done, "still_open": still_open}


def test_retention_deletes_what_is_past_its_window_and_keeps_the_rest(session, seeded):
    old_month = partitions.partition_name("book_events", partitions.month_start(OLD_EVENT))
    assert old_month in months(session)

    result = maintenance(batch_rows=1).run(RUN_SECONDS)  # one row a batch: every table takes several

    assert old_month in result["partitions"]["dropped"] and old_month not in months(session)
    events = session.execute(select(BookEvent.seq).where(BookEvent.book_id == seeded["old_done"].id)).scalars().all()
    assert events == [3]
    runs = session.execute(select(JobRun.book_id, JobRun.started_at)).all()
    assert sorted((book_id, started < NOW - 300 * DAY) for book_id, started in runs) == sorted(
        [(seeded["old_done"].id, False), (seeded["recently_done"].id, True), (seeded["still_open"].id, True)]
    )
    assert session.execute(select(IdempotencyRecord.key)).scalars().all() == ["new"]
    assert count(session, UsageCounter) == 1
    assert result["deleted"] == {"events": 1, "job_runs": 1, "idempotency_records": 1, "usage_counters": 1}


def test_a_finished_books_job_history_is_kept_as_long_as_configured(session, seeded):
    maintenance(job_runs=365).run(RUN_SECONDS)
    assert session.execute(select(func.count()).where(JobRun.book_id == seeded["old_done"].id)).scalar_one() == 1

    maintenance(job_runs=30).run(RUN_SECONDS)
    session.expire_all()
    assert session.execute(select(func.count()).where(JobRun.book_id == seeded["old_done"].id)).scalar_one() == 0
    assert count(session, JobRun) == 2  # the other books' history: one recently finished, one still open


def test_a_second_run_changes_nothing_more(session, seeded):
    maintenance().run(RUN_SECONDS)
    before = {model.__name__: count(session, model) for model in (BookEvent, JobRun, IdempotencyRecord, UsageCounter)}
    partitions_before = months(session)

    again = maintenance().run(RUN_SECONDS)

    assert again["deleted"] == {"events": 0, "job_runs": 0, "idempotency_records": 0, "usage_counters": 0}
    assert again["partitions"] == {"created": [], "dropped": []}
    assert {model.__name__: count(session, model) for model in (BookEvent, JobRun, IdempotencyRecord, UsageCounter)} == before
    assert months(session) == partitions_before


def test_two_runs_at_once_delete_everything_once_and_fail_nowhere(session, seeded):
    results, errors = [], []

    def run() -> None:
        try:
            results.append(maintenance(batch_rows=1).run(RUN_SECONDS))
        except Exception as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    totals = {table: sum(r["deleted"][table] for r in results) for table in results[0]["deleted"]}
    assert totals == {"events": 1, "job_runs": 1, "idempotency_records": 1, "usage_counters": 1}
    assert count(session, IdempotencyRecord) == 1 and count(session, UsageCounter) == 1


# ---------------------------------------------------------------- the media sweep


def put(media, key: str) -> str:
    media.write(key, b"x", "application/octet-stream")
    return key


@pytest.fixture
def bucket(session, media):
    book = add_book(session)
    asset_id = uuid.uuid4()
    session.add(
        Asset(id=asset_id, owner_id="alice", book_id=book.id, s3_key=keys.photo_key(book.id, asset_id, "jpg"),
              thumbnail_key=keys.thumbnail_key(book.id, asset_id), content_type="image/jpeg", size_bytes=1, width=1, height=1)
    )
    session.commit()
    gone, never_recorded = uuid.uuid4(), uuid.uuid4()
    kept = [
        put(media, keys.photo_key(book.id, asset_id, "jpg")),
        put(media, keys.thumbnail_key(book.id, asset_id)),
        put(media, keys.illustration_key(book.id, uuid.uuid4())),
        put(media, keys.pdf_key(book.id)),
        put(media, keys.export_key("alice", uuid.uuid4())),
    ]
    swept = [
        put(media, keys.upload_key(book.id, uuid.uuid4().hex)),
        put(media, keys.photo_key(book.id, never_recorded, "png")),
        put(media, keys.thumbnail_key(book.id, never_recorded)),
        put(media, keys.photo_key(gone, uuid.uuid4(), "jpg")),
        put(media, keys.pdf_key(gone)),
    ]
    return kept, swept


def stored(media) -> set[str]:
    return {obj["Key"] for page in media.s3.get_paginator("list_objects_v2").paginate(Bucket=media.bucket) for obj in page.get("Contents", [])}


def test_stale_uploads_and_orphaned_objects_are_swept_once_past_the_grace_period(media, bucket):
    kept, swept = bucket

    young = maintenance().run(RUN_SECONDS)
    assert young["media"] == {"listed": 9, "deleted": 0} and stored(media) == set(kept + swept)

    old = maintenance().run(RUN_SECONDS, now=NOW + 25 * timedelta(hours=1))
    assert old["media"] == {"listed": 9, "deleted": 5}
    assert stored(media) == set(kept)

    assert maintenance().run(RUN_SECONDS, now=NOW + 25 * timedelta(hours=1))["media"] == {"listed": 4, "deleted": 0}
    assert stored(media) == set(kept)


def test_a_bounded_sweep_resumes_where_the_last_run_stopped_and_starts_over_at_the_end(media, bucket):
    kept, _ = bucket
    later = NOW + 25 * timedelta(hours=1)
    listed = [maintenance(objects_per_run=4).run(RUN_SECONDS, now=later)["media"]["listed"] for _ in range(3)]

    assert listed == [4, 4, 1]  # 9 objects under books/, four a run
    assert stored(media) == set(kept)
    assert maintenance(objects_per_run=4).run(RUN_SECONDS, now=later)["media"]["listed"] == 4  # from the top again


# ---------------------------------------------------------------- stuck books


@pytest.fixture
def state_machine(aws_environment):
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    arn = sfn.create_state_machine(
        name=f"book-generation-{uuid.uuid4().hex[:8]}",
        definition='{"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 3600, "End": true}}}',
        roleArn="arn:aws:iam::123456789012:role/storywink-local",
    )["stateMachineArn"]
    return sfn, arn


def test_the_job_repairs_a_book_whose_execution_ended_and_leaves_running_ones(session, state_machine):
    sfn, arn = state_machine
    stopped = sfn.start_execution(stateMachineArn=arn, name="stopped")["executionArn"]
    sfn.stop_execution(executionArn=stopped)
    running = sfn.start_execution(stateMachineArn=arn, name="running")["executionArn"]
    missing = arn.replace(":stateMachine:", ":execution:") + ":never-started"
    aborted = add_book(session, BookStatus.GENERATING, execution_arn=stopped)
    healthy = add_book(session, BookStatus.ILLUSTRATING, execution_arn=running)
    never_started = add_book(session, BookStatus.GENERATING, execution_arn=missing, changed=NOW - 10 * timedelta(minutes=1))
    just_started = add_book(session, BookStatus.GENERATING, execution_arn=missing + "-fresh")

    result = maintenance().run(RUN_SECONDS)

    assert result["stuckBooks"] == {"checked": 4, "repaired": 2}
    session.expire_all()
    statuses = {book.id: (session.get(Book, book.id).status, session.get(Book, book.id).status_reason)
                for book in (aborted, healthy, never_started, just_started)}
    assert statuses == {
        aborted.id: (BookStatus.FAILED, "The generation ended ABORTED."),
        healthy.id: (BookStatus.ILLUSTRATING, None),
        never_started.id: (BookStatus.FAILED, "The generation did not start."),
        just_started.id: (BookStatus.GENERATING, None),
    }
    (event,) = session.execute(select(BookEvent).where(BookEvent.book_id == aborted.id)).scalars()
    assert (event.seq, event.payload["status"]) == (1, "FAILED")

    assert maintenance().run(RUN_SECONDS)["stuckBooks"] == {"checked": 2, "repaired": 0}


def test_a_book_that_changed_since_it_was_read_is_not_repaired(session, state_machine):
    sfn, arn = state_machine
    stopped = sfn.start_execution(stateMachineArn=arn, name="stopped-then-moved")["executionArn"]
    sfn.stop_execution(executionArn=stopped)
    book = add_book(session, BookStatus.GENERATING, execution_arn=stopped)
    job = maintenance().stuck_books

    assert job._repair(book.id, stopped, seq=book.last_event_seq + 1, ended="ABORTED") is False
    session.expire_all()
    assert session.get(Book, book.id).status == BookStatus.GENERATING


# ---------------------------------------------------------------- the function


def test_the_function_runs_with_its_sample_event(session):
    handler = importlib.import_module("maintenance").handler
    result = handler(load_sample("maintenance.json"), LocalLambdaContext("MaintenanceFunction", timeout_seconds=240))

    assert set(result) == {"partitions", "stuckBooks", "deleted", "media"}
    current = partitions.partition_name("book_events", partitions.month_start(datetime.now(UTC)))
    assert current in months(session)
