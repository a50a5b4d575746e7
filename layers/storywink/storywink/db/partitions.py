"""Monthly range partitions of book_events (PostgreSQL declarative partitioning on created_at).

Each month is a partition named book_events_pYYYYMM holding [first of the month, first of the next) in
UTC; a DEFAULT partition catches a row whose month has no partition yet, so a late maintenance run can
never make a status change fail. The maintenance job creates the months ahead (moving any row that
landed in the default partition into its month first) and drops whole months past the retention window:
dropping a partition is instant, where deleting its rows would scan and vacuum them.

Creating and dropping take locks on the parent (ATTACH: SHARE UPDATE EXCLUSIVE, DROP: a brief ACCESS
EXCLUSIVE), so each runs with a short lock timeout and under a transaction-scoped advisory lock: two
maintenance runs never change partitions at once, and a run that cannot get a lock leaves the work to the
next one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import Connection, text

PARTITIONED_TABLES = ("book_events",)
DEFAULT_SUFFIX = "_default"
# The maintenance job keeps this many months after the current one created.
MONTHS_AHEAD = 3
# How long a partition change waits for a lock before it gives up (the next run tries again): readers and
# writers queue behind a waiting ACCESS EXCLUSIVE request, so the wait must stay short.
DDL_LOCK_TIMEOUT = "2s"
# pg_try_advisory_xact_lock key of partition changes ("storywink partitions").
ADVISORY_KEY = 0x5357_5041
_MONTH = re.compile(r"_p(\d{4})(\d{2})$")


def month_start(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def add_months(month: datetime, count: int) -> datetime:
    index = month.year * 12 + month.month - 1 + count
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def partition_name(table: str, month: datetime) -> str:
    return f"{table}_p{month.year:04d}{month.month:02d}"


def is_partition(name: str) -> bool:
    """A partition's table name (Alembic compares the parents only)."""
    return any(name == f"{table}{DEFAULT_SUFFIX}" or (name.startswith(f"{table}_p") and _MONTH.search(name))
               for table in PARTITIONED_TABLES)


def month_partitions(connection: Connection, table: str) -> dict[datetime, str]:
    """The table's monthly partitions by the month they hold (the default partition is not one)."""
    names = connection.execute(
        text(
            "SELECT child.relname FROM pg_inherits JOIN pg_class child ON child.oid = pg_inherits.inhrelid "
            "JOIN pg_class parent ON parent.oid = pg_inherits.inhparent WHERE parent.relname = :table"
        ),
        {"table": table},
    ).scalars()
    months = {}
    for name in names:
        match = _MONTH.search(name)
        if match and name == f"{table}_p{match.group(1)}{match.group(2)}":
            months[datetime(int(match.group(1)), int(match.group(2)), 1, tzinfo=UTC)] = name
    return months


def create_default_partition(connection: Connection, table: str) -> None:
    connection.execute(text(f"CREATE TABLE {table}{DEFAULT_SUFFIX} PARTITION OF {table} DEFAULT"))


def create_month_partition(connection: Connection, table: str, month: datetime) -> bool:
    """The month's partition, with the rows the default partition holds for it moved in; False if it existed.

    Built apart and then attached: CREATE TABLE ... PARTITION OF would lock the parent ACCESS EXCLUSIVE,
    ATTACH PARTITION only SHARE UPDATE EXCLUSIVE (writers and readers go on)."""
    if month in month_partitions(connection, table):
        return False
    name, low, high = partition_name(table, month), month, add_months(month, 1)
    bounds = {"low": low, "high": high}
    connection.execute(text(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
    connection.execute(
        text(
            f"WITH moved AS (DELETE FROM {table}{DEFAULT_SUFFIX} WHERE created_at >= :low AND created_at < :high "
            f"RETURNING *) INSERT INTO {name} SELECT * FROM moved"
        ),
        bounds,
    )
    # The range as a constraint first, so ATTACH need not scan the new table to prove it.
    connection.execute(
        text(f"ALTER TABLE {name} ADD CONSTRAINT {name}_range CHECK (created_at >= '{low.isoformat()}' "
             f"AND created_at < '{high.isoformat()}')")
    )
    connection.execute(
        text(f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM ('{low.isoformat()}') TO ('{high.isoformat()}')")
    )
    connection.execute(text(f"ALTER TABLE {name} DROP CONSTRAINT {name}_range"))
    return True


def lock_partitions(connection: Connection) -> bool:
    """Whether this transaction may change partitions now (no other run is); sets the short lock timeout."""
    if not connection.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": ADVISORY_KEY}).scalar_one():
        return False
    connection.execute(text(f"SET LOCAL lock_timeout = '{DDL_LOCK_TIMEOUT}'"))
    return True


def ensure_months_ahead(connection: Connection, table: str, now: datetime, ahead: int = MONTHS_AHEAD) -> list[str]:
    """The partitions of this month and the ``ahead`` next ones that were missing, created; their names."""
    current = month_start(now)
    created = []
    for offset in range(ahead + 1):
        month = add_months(current, offset)
        if create_month_partition(connection, table, month):
            created.append(partition_name(table, month))
    return created


def drop_months_before(connection: Connection, table: str, cutoff: datetime) -> list[str]:
    """Drop every monthly partition whose whole month lies before ``cutoff``; their names."""
    dropped = []
    for month, name in sorted(month_partitions(connection, table).items()):
        if add_months(month, 1) <= cutoff:
            connection.execute(text(f"DROP TABLE {name}"))
            dropped.append(name)
    return dropped


def compared_by_alembic(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic's include_name: partitions and their indexes follow their parent's, and are not in the models."""
    if type_ == "table":
        return not is_partition(name or "")
    return not is_partition(parent_names.get("table_name") or "")
