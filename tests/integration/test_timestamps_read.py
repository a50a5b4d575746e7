"""Every connection of the container's engines reads timestamps with the fast parsers, and reads them right."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import text

from storywink.db import timestamps
from storywink.wiring import container


def test_the_engine_s_connections_read_timestamps_with_the_fast_parsers_and_the_values_survive(db):
    engine = container().database.engine
    moments = [datetime(2026, 12, 2, 10, 0, 0, 123456, tzinfo=UTC), datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC)]
    with engine.connect() as connection:
        pg_types = connection.connection.dbapi_connection.pg_types
        assert pg_types[1184] is timestamps.timestamptz_in and pg_types[1114] is timestamps.timestamp_in
        for moment in moments:
            read = connection.execute(text("SELECT CAST(:m AS timestamptz), CAST(:m AS timestamptz)::timestamp"), {"m": moment}).one()
            assert read[0] == moment and read[1] == moment.replace(tzinfo=None)
        connection.exec_driver_sql("SET TIME ZONE 'Asia/Kolkata'")
        shown = connection.execute(text("SELECT CAST(:m AS timestamptz)"), {"m": moments[0]}).scalar_one()
        assert shown == moments[0] and shown.utcoffset() == timezone(timedelta(hours=5, minutes=30)).utcoffset(None)
        connection.rollback()
