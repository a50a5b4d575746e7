"""Quotas and rate limits: counted in PostgreSQL, refused with 429 + Retry-After in the one error shape."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from storywink.db.tables import Book, IdempotencyRecord, ProviderCallDay, UsageCounter, User
from storywink.domain.enums import Plan, UsageBucket
from storywink.domain.errors import RateLimited
from storywink.domain.execution import ExecutionInput
from storywink.services import generation, limits, provider_budget
from storywink.wiring import container

NOW = datetime(2030, 1, 1, 12, 0, 30, tzinfo=UTC)
SECONDS_TO_MIDNIGHT = 11 * 3600 + 59 * 60 + 30


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The limits' and the provider budget's clock, frozen at NOW (move it with clock.now = ...)."""
    frozen = Clock(NOW)
    monkeypatch.setattr(limits, "utcnow", lambda: frozen.now)
    monkeypatch.setattr(provider_budget, "utcnow", lambda: frozen.now)
    return frozen


@pytest.fixture
def configure(reconfigure):
    return reconfigure


@pytest.fixture
def started(monkeypatch) -> list:
    """Stand-ins for the three ways to plan a start and for the launch (there is no state machine in these
    tests): each records the book and plans as the real one would."""
    calls: list = []

    def fake(mode: str):
        def plan(self, session, book, correlation_id):  # type: ignore[no-untyped-def]
            calls.append(book.id)
            name = f"{book.id}-{len(calls)}"
            return generation.PlannedStart(
                f"arn:aws:states:us-east-1:123456789012:execution:books:{name}",
                name,
                len(calls),
                mode,
                ExecutionInput(book_id=book.id, user_id=book.owner_id, mode=mode, auto_illustrate=True, attempt=len(calls)),
            )

        return plan

    for method, mode in (("plan_generation", "FULL"), ("plan_illustration", "ILLUSTRATE"), ("plan_retry", "REDO_PAGES")):
        monkeypatch.setattr(generation.Generation, method, fake(mode))
    monkeypatch.setattr(generation.Generation, "launch", lambda self, planned: None)
    return calls


def refused(response, code: str) -> dict:
    """The 429 in the API's error shape; returns the error."""
    assert response.status_code == 429, response.text
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "requestId", "details"}
    assert error["code"] == code and error["requestId"] == response.headers["X-Request-Id"]
    assert int(response.headers["Retry-After"]) >= 1
    return error


def new_books(client, auth, count: int, user: str = "alice", **claims) -> list:
    return [
        client.post("/v1/books", json={"title": f"Book {n}", "childName": "Milo"}, headers=auth(user, **claims))
        for n in range(count)
    ]


def usage_of(client, auth, user: str = "alice", **claims) -> dict:
    response = client.get("/v1/me/usage", headers=auth(user, **claims))
    assert response.status_code == 200, response.text
    return response.json()


def test_the_generation_after_a_free_users_daily_quota_is_refused_before_anything_starts(
    client, auth, book_with_photos, configure, clock, started
):
    configure(GENERATION_QUOTA_FREE_PER_DAY=2)
    book = book_with_photos(1)
    for _ in range(2):
        assert client.post(f"/v1/books/{book['id']}/generate", headers=auth()).status_code == 202

    response = client.post(f"/v1/books/{book['id']}/generate", headers=auth())

    error = refused(response, "QUOTA_EXCEEDED")
    assert response.headers["Retry-After"] == str(SECONDS_TO_MIDNIGHT)
    assert error["details"] == {"limit": 2, "used": 2, "resetsAt": "2030-01-02T00:00:00Z", "plan": "free"}
    assert error["message"] == (
        "Daily generation quota reached: the free plan allows 2 a day. It resets at 00:00 UTC (2030-01-02T00:00:00Z)."
    )
    assert len(started) == 2  # the refused request never reached the start
    assert client.get(f"/v1/books/{book['id']}", headers=auth()).json()["status"] == "DRAFT"


def test_a_premium_user_gets_the_premium_quota(client, auth, book_with_photos, configure, clock, started):
    configure(GENERATION_QUOTA_FREE_PER_DAY=1, GENERATION_QUOTA_PREMIUM_PER_DAY=3)
    book = book_with_photos(1, user="pat")
    premium = auth("pat", plan="premium")
    for _ in range(3):
        assert client.post(f"/v1/books/{book['id']}/generate", headers=premium).status_code == 202

    error = refused(client.post(f"/v1/books/{book['id']}/generate", headers=premium), "QUOTA_EXCEEDED")

    assert error["details"]["plan"] == "premium" and error["details"]["limit"] == 3


def test_generate_illustrate_and_retry_share_the_generation_quota(
    client, auth, book_with_photos, configure, clock, started
):
    configure(GENERATION_QUOTA_FREE_PER_DAY=3)
    book = book_with_photos(1)
    for action in ("generate", "illustrate", "retry"):
        assert client.post(f"/v1/books/{book['id']}/{action}", headers=auth()).status_code == 202

    for action in ("generate", "illustrate", "retry"):
        refused(client.post(f"/v1/books/{book['id']}/{action}", headers=auth()), "QUOTA_EXCEEDED")
    assert usage_of(client, auth)["generations"]["used"] == 3


def test_a_replayed_idempotency_key_costs_no_generation(
    client, auth, book_with_photos, configure, clock, session, started
):
    configure(GENERATION_QUOTA_FREE_PER_DAY=1)
    book = book_with_photos(1)
    first = {"bookId": book["id"], "status": "GENERATING", "attempt": 1}
    session.add(
        IdempotencyRecord(
            user_id="alice", key="start-1", route=f"POST /v1/books/{book['id']}/generate", status_code=202, body=first
        )
    )
    session.commit()
    assert client.post(f"/v1/books/{book['id']}/generate", headers=auth()).status_code == 202  # the one generation

    replay = client.post(f"/v1/books/{book['id']}/generate", headers={**auth(), "Idempotency-Key": "start-1"})

    assert replay.status_code == 202 and replay.json() == first
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert usage_of(client, auth)["generations"]["used"] == 1
    new_key = {**auth(), "Idempotency-Key": "start-2"}
    refused(client.post(f"/v1/books/{book['id']}/generate", headers=new_key), "QUOTA_EXCEEDED")


def test_changes_are_rate_limited_per_minute_with_retry_after(client, auth, configure, clock, session):
    configure(RATE_LIMIT_FREE_PER_MINUTE=3)
    book = new_books(client, auth, 3)[0].json()

    response = new_books(client, auth, 1)[0]

    error = refused(response, "RATE_LIMITED")
    assert response.headers["Retry-After"] == "30"  # NOW is 30 s into its minute
    assert error["details"] == {"limit": 3, "used": 3, "resetsAt": "2030-01-01T12:01:00Z", "plan": "free"}
    refused(client.patch(f"/v1/books/{book['id']}", json={"title": "New"}, headers=auth()), "RATE_LIMITED")
    refused(client.delete(f"/v1/books/{book['id']}", headers=auth()), "RATE_LIMITED")
    assert session.scalar(select(func.count()).select_from(Book)) == 3
    assert new_books(client, auth, 1, user="bob")[0].status_code == 201  # the limit is per user

    clock.now = NOW + timedelta(seconds=30)  # the next minute: the refused attempts were never counted
    assert [r.status_code for r in new_books(client, auth, 4)] == [201, 201, 201, 429]


def test_retry_after_is_the_rest_of_the_window_and_never_zero(session):
    session.add(User(id="ann", plan=Plan.FREE))
    session.commit()
    per_minute = limits.Limit(UsageBucket.REQUESTS, Plan.FREE, 1, limits.MINUTE)
    start = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    limits.consume(session, "ann", per_minute, now=start)

    waits = []
    for now in (start, start + timedelta(seconds=59, microseconds=999_000)):
        with pytest.raises(RateLimited) as raised:
            limits.consume(session, "ann", per_minute, now=now)
        waits.append(raised.value.retry_after_seconds)

    assert waits == [60, 1]


def test_reads_have_a_per_minute_limit_of_their_own(client, auth, configure, clock):
    configure(RATE_LIMIT_FREE_PER_MINUTE=1, READ_LIMIT_FREE_PER_MINUTE=4)
    book = new_books(client, auth, 1)[0].json()
    refused(new_books(client, auth, 1)[0], "RATE_LIMITED")  # the changes' limit is spent, not the reads'

    reads = [client.get(path, headers=auth()) for path in ("/v1/books", f"/v1/books/{book['id']}", "/v1/me/usage")]
    fourth = client.get(f"/v1/books/{book['id']}/status", headers=auth())
    stream = client.get(f"/v1/books/{book['id']}/status/stream", headers=auth())

    assert [read.status_code for read in reads] == [200, 200, 200]
    assert reads[2].json()["reads"] == {
        "limit": 4, "used": 3, "remaining": 1, "windowSeconds": 60, "resetsAt": "2030-01-01T12:01:00Z"
    }
    assert reads[2].json()["requests"]["used"] == 1
    assert fourth.status_code == 200  # the fourth read passes, the fifth (an event stream) does not
    error = refused(stream, "RATE_LIMITED")
    assert "Too many reads" in error["message"] and error["details"]["limit"] == 4
    assert stream.headers["Retry-After"] == "30"
    assert client.get("/v1/books", headers=auth("bob")).status_code == 200  # the limit is per user

    clock.now = NOW + timedelta(seconds=30)  # the next minute
    assert client.get("/v1/books", headers=auth()).status_code == 200


def test_concurrent_changes_never_pass_the_limit(client, auth, configure, clock, session):
    configure(RATE_LIMIT_FREE_PER_MINUTE=4)
    headers = auth()

    def create(n: int) -> int:
        return client.post("/v1/books", json={"title": f"B{n}", "childName": "M"}, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(create, range(12)))

    assert sorted(statuses) == [201] * 4 + [429] * 8
    assert session.scalar(select(func.count()).select_from(Book)) == 4


def test_counters_hit_at_once_admit_exactly_the_limit(session):
    session.add(User(id="racer", plan=Plan.FREE))
    session.commit()
    quota = limits.Limit(UsageBucket.GENERATIONS, Plan.FREE, 5, limits.DAY)
    gate = threading.Barrier(16)

    def attempt(_: int) -> bool:
        with container().database.sessions() as own:
            gate.wait()
            try:
                limits.consume(own, "racer", quota, now=NOW)
            except RateLimited:
                return False
            own.commit()
            return True

    with ThreadPoolExecutor(max_workers=16) as pool:
        admitted = list(pool.map(attempt, range(16)))

    assert admitted.count(True) == 5
    assert session.scalar(select(UsageCounter.count).where(UsageCounter.user_id == "racer")) == 5


def test_old_windows_are_deleted_when_a_new_window_opens(session):
    session.add_all([User(id="ann", plan=Plan.FREE), User(id="ben", plan=Plan.FREE)])
    session.flush()
    for user, age in (("ann", timedelta(days=3)), ("ann", timedelta(days=1)), ("ben", timedelta(days=3))):
        session.add(UsageCounter(user_id=user, bucket="requests", window_start=NOW - age, count=7))
    session.commit()

    limits.consume(session, "ann", limits.Limit(UsageBucket.REQUESTS, Plan.FREE, 10, limits.MINUTE), now=NOW)
    session.commit()

    left = session.execute(select(UsageCounter.user_id, UsageCounter.window_start)).all()
    this_minute = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    assert sorted(left) == sorted(
        [("ann", NOW - timedelta(days=1)), ("ann", this_minute), ("ben", NOW - timedelta(days=3))]
    )


def test_the_photo_quota_counts_photos_not_requests(client, auth, configure, clock):
    configure(PHOTO_QUOTA_FREE_PER_DAY=5)
    book = new_books(client, auth, 1)[0].json()

    def ask(count: int, content_type: str = "image/jpeg"):
        photos = [{"contentType": content_type, "size": 1000}] * count
        return client.post(f"/v1/books/{book['id']}/photos", json={"photos": photos}, headers=auth())

    assert ask(1, "image/gif").status_code == 415  # refused photos cost nothing
    assert len(ask(3).json()["uploads"]) == 3
    error = refused(ask(3), "QUOTA_EXCEEDED")
    assert error["details"] == {
        "limit": 5, "used": 3, "requested": 3, "resetsAt": "2030-01-02T00:00:00Z", "plan": "free"
    }
    assert len(ask(2).json()["uploads"]) == 2
    assert usage_of(client, auth)["photos"]["used"] == 5


def test_admins_are_exempt(client, auth, book_with_photos, configure, clock, started):
    book = book_with_photos(1, user="ops")
    configure(RATE_LIMIT_FREE_PER_MINUTE=1, GENERATION_QUOTA_FREE_PER_DAY=1, PHOTO_QUOTA_FREE_PER_DAY=1)
    admin = auth("ops", admin=True)

    assert [r.status_code for r in new_books(client, auth, 3, user="ops", admin=True)] == [201] * 3
    photos = {"photos": [{"contentType": "image/jpeg", "size": 1000}] * 3}
    assert client.post(f"/v1/books/{book['id']}/photos", json=photos, headers=admin).status_code == 200
    for _ in range(2):
        assert client.post(f"/v1/books/{book['id']}/generate", headers=admin).status_code == 202
    usage = usage_of(client, auth, "ops", admin=True)
    assert usage["exempt"] is True and usage["generations"]["used"] == 0


def test_usage_shows_the_plan_its_limits_and_what_is_used(client, auth, clock, started):
    book = new_books(client, auth, 1)[0].json()
    two_photos = {"photos": [{"contentType": "image/jpeg", "size": 9}] * 2}
    client.post(f"/v1/books/{book['id']}/photos", json=two_photos, headers=auth())
    client.post(f"/v1/books/{book['id']}/generate", headers=auth())

    usage = usage_of(client, auth)

    assert usage["plan"] == "free" and usage["exempt"] is False
    assert usage["requests"] == {
        "limit": 60, "used": 3, "remaining": 57, "windowSeconds": 60, "resetsAt": "2030-01-01T12:01:00Z"
    }
    assert usage["generations"] == {
        "limit": 5, "used": 1, "remaining": 4, "windowSeconds": 86400, "resetsAt": "2030-01-02T00:00:00Z"
    }
    assert usage["photos"] == {
        "limit": 100, "used": 2, "remaining": 98, "windowSeconds": 86400, "resetsAt": "2030-01-02T00:00:00Z"
    }
    premium = usage_of(client, auth, "pat", plan="premium")
    limits_shown = [premium[bucket]["limit"] for bucket in ("requests", "reads", "generations", "photos")]
    assert premium["plan"] == "premium" and limits_shown == [240, 1200, 50, 1000]
    assert premium["generations"]["used"] == 0


def test_a_start_that_does_not_happen_costs_no_generation(client, auth, book_with_photos, configure, clock):
    configure(GENERATION_QUOTA_FREE_PER_DAY=1)
    book = book_with_photos(1)
    # The real starts: illustrate is refused (the book is a DRAFT), generate fails (no state machine here).
    assert client.post(f"/v1/books/{book['id']}/illustrate", headers=auth()).status_code == 409
    assert client.post(f"/v1/books/{book['id']}/generate", headers=auth()).status_code == 503
    assert usage_of(client, auth)["generations"]["used"] == 0


def test_a_start_beyond_the_days_provider_call_ceiling_is_refused_with_503_until_midnight(
    client, auth, book_with_photos, configure, clock, started, session
):
    configure(PROVIDER_CALL_CEILING_PER_DAY=9)  # a three-page book plans four calls: two books fit, not three
    books = {user: book_with_photos(3, user=user)["id"] for user in ("alice", "bob", "carol")}
    assert client.post(f"/v1/books/{books['alice']}/generate", headers=auth("alice")).status_code == 202
    assert client.post(f"/v1/books/{books['bob']}/generate", headers=auth("bob")).status_code == 202

    response = client.post(f"/v1/books/{books['carol']}/generate", headers=auth("carol"))

    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "PROVIDER_BUDGET_EXHAUSTED" and error["requestId"] == response.headers["X-Request-Id"]
    assert error["details"] == {"resetsAt": "2030-01-02T00:00:00Z"}
    assert response.headers["Retry-After"] == str(SECONDS_TO_MIDNIGHT)
    assert len(started) == 3  # planned, then refused: nothing of it was kept
    assert client.get(f"/v1/books/{books['carol']}", headers=auth("carol")).json()["status"] == "DRAFT"
    assert usage_of(client, auth, "carol")["generations"]["used"] == 0
    session.expire_all()
    assert session.get(ProviderCallDay, NOW.date()).calls == 8

    clock.now = NOW + timedelta(hours=12)  # the next UTC day
    assert client.post(f"/v1/books/{books['carol']}/generate", headers=auth("carol")).status_code == 202
    session.expire_all()
    assert session.get(ProviderCallDay, (NOW + timedelta(hours=12)).date()).calls == 4


def test_a_start_plans_the_story_and_each_page_it_illustrates():
    def planned(mode: str, auto_illustrate: bool = True, pages: int = 0) -> generation.PlannedStart:
        execution = ExecutionInput(
            book_id="00000000-0000-0000-0000-000000000001", user_id="ann", mode=mode,
            auto_illustrate=auto_illustrate, attempt=1, page_ids=[f"00000000-0000-0000-0000-00000000000{n}" for n in range(pages)],
        )
        return generation.PlannedStart("arn", "name", 1, mode, execution)

    assert provider_budget.planned_calls(planned("FULL"), pages=5) == 6
    assert provider_budget.planned_calls(planned("FULL", auto_illustrate=False), pages=5) == 1
    assert provider_budget.planned_calls(planned("ILLUSTRATE", pages=5), pages=5) == 5
    assert provider_budget.planned_calls(planned("REDO_PAGES", pages=2), pages=5) == 2
