"""Pooled connections are pinged before use only after sitting idle: a connection the server dropped
meanwhile is replaced without the caller seeing it, and one used a moment ago costs no round trip."""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from storywink.config import Settings
from storywink.db.engine import Database


@pytest.fixture
def admin(database_url) -> Iterator:
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def one_connection(database_url: str, ping_after: float) -> Database:
    return Database(
        Settings(
            DATABASE_URL=database_url,
            DATABASE_POOL_SIZE=1,
            DATABASE_MAX_OVERFLOW=0,
            DATABASE_PING_AFTER_IDLE_SECONDS=ping_after,
        )
    )


def backend_pid(database: Database) -> int:
    with database.unit_of_work() as session:
        return session.execute(text("SELECT pg_backend_pid()")).scalar_one()


def drop(admin, pid: int) -> None:
    """What a proxy's idle timeout, a failover or a restart does to a connection sitting in the pool."""
    with admin.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()


def pings(database: Database) -> mock.MagicMock:
    dialect = database.engine.dialect
    return mock.patch.object(dialect, "do_ping", wraps=dialect.do_ping)


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(database_url, admin):
    database = one_connection(database_url, ping_after=0)
    first = backend_pid(database)
    drop(admin, first)

    with pings(database) as ping:
        second = backend_pid(database)  # no error: the ping found it gone and the pool connected again

    assert second != first
    assert ping.call_count == 1
    database.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(database_url):
    database = one_connection(database_url, ping_after=60)
    first = backend_pid(database)

    with pings(database) as ping:
        assert [backend_pid(database) for _ in range(3)] == [first] * 3

    assert ping.call_count == 0
    database.dispose()


def test_a_connection_dropped_within_the_idle_time_fails_one_statement_and_is_replaced(
    database_url, admin
):
    database = one_connection(database_url, ping_after=60)
    first = backend_pid(database)
    drop(admin, first)

    # pg8000 raises the socket's error (a reset) as it is; SQLAlchemy is told it is a disconnect.
    with pytest.raises((DBAPIError, OSError)):
        backend_pid(database)

    assert backend_pid(database) != first  # not the broken one handed out again
    assert backend_pid(database) == backend_pid(database)
    database.dispose()
