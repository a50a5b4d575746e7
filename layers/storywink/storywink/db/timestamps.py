"""Timestamps read by the C parser: pg8000 reads every timestamp with ``datetime.strptime``, which costs
about 15 µs a value, a tenth of a millisecond for a library page's rows alone. PostgreSQL's ISO output
(``2026-12-02 10:00:00.123456+00``) is what ``datetime.fromisoformat`` reads, giving the same value in a
twentieth of the time; anything else (``infinity``, a year before 1000, BC) goes to pg8000's own parser."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pg8000 import converters
from sqlalchemy import Engine, event


def timestamptz_in(data: str) -> Any:
    try:
        return datetime.fromisoformat(data)
    except ValueError:
        return converters.timestamptz_in(data)


def timestamp_in(data: str) -> Any:
    try:
        return datetime.fromisoformat(data)
    except ValueError:
        return converters.timestamp_in(data)


def read_timestamps_fast(engine: Engine) -> None:
    """Every new pg8000 connection of ``engine`` reads timestamps with the parsers above."""
    if engine.dialect.driver != "pg8000":
        return

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.register_in_adapter(converters.TIMESTAMPTZ, timestamptz_in)
        dbapi_connection.register_in_adapter(converters.TIMESTAMP, timestamp_in)
