"""Stream leases: at most N open event streams per user, shared by every container; crashed ones expire."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select, update

from storywink.db.tables import StreamLease
from storywink.services import stream_leases
from storywink.services.stream_leases import StreamLeaseKeeper, TooManyStreams
from storywink.wiring import container

LIMIT = 2


def take(user: str, book_id: uuid.UUID) -> uuid.UUID:
    with container().database.unit_of_work() as session:
        return stream_leases.acquire(session, user, book_id, limit=LIMIT, lease_seconds=60)


def open_leases(session, user: str) -> int:
    session.expire_all()
    return session.execute(select(func.count()).where(StreamLease.user_id == user)).scalar_one()


@pytest.fixture
def book_id(book_with_photos) -> uuid.UUID:
    return uuid.UUID(book_with_photos(1)["id"])


def test_a_user_over_the_cap_is_refused_with_when_to_try_again(session, book_id):
    take("alice", book_id)
    take("alice", book_id)
    with pytest.raises(TooManyStreams) as refused:
        take("alice", book_id)
    assert refused.value.status_code == 429 and 1 <= refused.value.retry_after_seconds <= 60
    assert refused.value.details == {"limit": LIMIT, "open": LIMIT}
    assert open_leases(session, "alice") == LIMIT


def test_a_released_lease_frees_its_slot(session, book_id):
    first = take("alice", book_id)
    take("alice", book_id)
    StreamLeaseKeeper(container().database, first, 60).release()
    take("alice", book_id)
    assert open_leases(session, "alice") == LIMIT


def test_a_lease_its_stream_never_released_runs_out_and_frees_its_slot(session, book_id):
    take("alice", book_id)
    crashed = take("alice", book_id)
    with container().database.unit_of_work() as expire:
        expire.execute(update(StreamLease).where(StreamLease.id == crashed).values(expires_at=func.now()))
    take("alice", book_id)
    assert open_leases(session, "alice") == LIMIT


def test_renewing_keeps_a_running_stream_from_running_out(session, book_id):
    lease = take("alice", book_id)
    with container().database.unit_of_work() as shorten:
        shorten.execute(update(StreamLease).where(StreamLease.id == lease).values(expires_at=func.now()))
    StreamLeaseKeeper(container().database, lease, 60).renew()
    take("alice", book_id)
    with pytest.raises(TooManyStreams):
        take("alice", book_id)


def test_concurrent_requests_never_pass_the_cap_together(session, book_id):
    outcomes: list[str] = []

    def attempt() -> None:
        try:
            take("alice", book_id)
            outcomes.append("ok")
        except TooManyStreams:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["ok"] * LIMIT + ["refused"] * (6 - LIMIT)
    assert open_leases(session, "alice") == LIMIT
