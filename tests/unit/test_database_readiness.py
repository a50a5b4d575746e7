"""/readyz's answer is asked of the database at most once per READINESS_CACHE_SECONDS, either way."""

from __future__ import annotations

from contextlib import contextmanager

from storywink.db.readiness import DatabaseReadiness


class CountingDatabase:
    """Stands in for Database: counts the connections asked for, failing while ``down``."""

    def __init__(self) -> None:
        self.connections = 0
        self.down = False

    @property
    def engine(self) -> CountingDatabase:
        return self

    @contextmanager
    def connect(self):
        self.connections += 1
        if self.down:
            raise ConnectionRefusedError("nothing listens")
        yield self

    def execute(self, statement) -> None:
        pass


def test_the_answer_is_kept_for_its_ttl_then_asked_again():
    database, now = CountingDatabase(), [100.0]
    readiness = DatabaseReadiness(database, ttl_seconds=5, clock=lambda: now[0])  # type: ignore[arg-type]

    assert readiness.check().database_ok and readiness.check().database_ok
    assert database.connections == 1
    database.down, now[0] = True, 104.9
    assert readiness.check().database_ok  # still the kept answer
    now[0] = 105.0
    assert not readiness.check().database_ok
    assert not readiness.check().database_ok
    assert database.connections == 2
    database.down, now[0] = False, 110.0
    assert readiness.check().database_ok
    assert database.connections == 3
