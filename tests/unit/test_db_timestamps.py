"""The fast timestamp parsers read what PostgreSQL sends exactly as pg8000's own do."""

from __future__ import annotations

import pytest
from pg8000 import converters

from storywink.db.timestamps import timestamp_in, timestamptz_in

WITH_ZONE = [
    "2026-12-02 10:00:00.123456+00",
    "2026-12-02 10:00:00+00",
    "2026-06-30 23:59:59.5+02",
    "2026-03-29 01:30:00.000001-09:30",
    "1999-12-31 23:59:59.99+05:30",
    "infinity",
    "-infinity",
    "0999-01-01 00:00:00+00",
    "0044-03-15 12:00:00+00 BC",
]
WITHOUT_ZONE = ["2026-12-02 10:00:00.123456", "2026-12-02 10:00:00", "2026-02-28 00:00:00.1", "infinity", "0044-03-15 12:00:00 BC"]


@pytest.mark.parametrize("text", WITH_ZONE)
def test_a_timestamp_with_a_zone_reads_as_pg8000_reads_it(text):
    ours, theirs = timestamptz_in(text), converters.timestamptz_in(text)
    assert ours == theirs and type(ours) is type(theirs)
    if hasattr(ours, "utcoffset"):
        assert ours.utcoffset() == theirs.utcoffset()


@pytest.mark.parametrize("text", WITHOUT_ZONE)
def test_a_timestamp_without_a_zone_reads_as_pg8000_reads_it(text):
    ours, theirs = timestamp_in(text), converters.timestamp_in(text)
    assert ours == theirs and type(ours) is type(theirs)
