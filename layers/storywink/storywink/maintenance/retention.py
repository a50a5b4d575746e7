"""Retention of the tables that only grow: book events by month (whole partitions dropped), the job runs of
books finished long ago, idempotency records and usage counters, each deleted in bounded batches.

Every batch is one short transaction that locks the rows it deletes with SKIP LOCKED, so two runs at once
delete different rows and a run stopped half-way (its Lambda timeout) has lost nothing: the next run picks
up what is left. Partitions change under an advisory lock with a short lock timeout (storywink.db.partitions).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, text
from sqlalchemy.exc import DBAPIError

from storywink.db import partitions
from storywink.db.engine import Database
from storywink.domain import rules
from storywink.observability import logger

LOCK_NOT_AVAILABLE = "55P03"
FINAL = tuple(status.value for status in rules.FINAL_STATUSES)


@dataclass(frozen=True)
class RetentionWindows:
    events: timedelta
    job_runs: timedelta
    idempotency: timedelta
    usage_counters: timedelta


# One statement per table: the keys of at most :rows rows past :cutoff, locked (skipping rows another run has
# locked), then deleted.
DELETIONS = {
    "events": (
        "DELETE FROM book_events WHERE (book_id, seq, created_at) IN (SELECT book_id, seq, created_at FROM book_events"
        " WHERE created_at < :cutoff LIMIT :rows FOR UPDATE SKIP LOCKED)"
    ),
    # Only the runs of books that finished, and finished (last changed) before the cutoff: a book's history is
    # whole while it can still change, and no message of a finished book's tasks is still on its way.
    "job_runs": (
        "DELETE FROM job_runs WHERE id IN (SELECT job_runs.id FROM job_runs JOIN books ON books.id = job_runs.book_id"
        " WHERE job_runs.started_at < :cutoff AND job_runs.status <> 'RUNNING'"
        " AND books.status IN :final AND books.updated_at < :cutoff"
        " ORDER BY job_runs.started_at LIMIT :rows FOR UPDATE OF job_runs SKIP LOCKED)"
    ),
    "idempotency_records": (
        "DELETE FROM idempotency_records WHERE (user_id, key) IN (SELECT user_id, key FROM idempotency_records"
        " WHERE created_at < :cutoff LIMIT :rows FOR UPDATE SKIP LOCKED)"
    ),
    "usage_counters": (
        "DELETE FROM usage_counters WHERE (user_id, bucket, window_start) IN (SELECT user_id, bucket, window_start"
        " FROM usage_counters WHERE window_start < :cutoff LIMIT :rows FOR UPDATE SKIP LOCKED)"
    ),
}


def sqlstate(error: DBAPIError) -> str | None:
    # pg8000 raises the server's error fields as a dict: {"C": sqlstate, "M": message, ...}.
    fields = error.orig.args[0] if error.orig is not None and error.orig.args else None
    return fields.get("C") if isinstance(fields, dict) else None


def maintain_partitions(database: Database, now: datetime, event_cutoff: datetime) -> dict[str, list[str]]:
    """This month's partition and the next ones created, whole months before the cutoff dropped."""
    try:
        with database.unit_of_work() as session:
            connection = session.connection()
            if not partitions.lock_partitions(connection):
                return {"created": [], "dropped": []}  # another run is changing them
            created = partitions.ensure_months_ahead(connection, "book_events", now)
            dropped = partitions.drop_months_before(connection, "book_events", event_cutoff)
    except DBAPIError as error:
        if sqlstate(error) != LOCK_NOT_AVAILABLE:
            raise
        logger.warning("partitions left for the next run: a lock was not available", extra={"action": "maintenance.partitions"})
        return {"created": [], "dropped": []}
    return {"created": created, "dropped": dropped}


def delete_expired(
    database: Database, windows: RetentionWindows, now: datetime, rows: int, in_time: Callable[[], bool]
) -> dict[str, int]:
    """Rows past their window deleted, a batch at a time while there is time; how many of each table."""
    cutoffs = {
        "events": now - windows.events,
        "job_runs": now - windows.job_runs,
        "idempotency_records": now - windows.idempotency,
        "usage_counters": now - windows.usage_counters,
    }
    deleted = dict.fromkeys(DELETIONS, 0)
    for table, statement in DELETIONS.items():
        query = text(statement)
        params: dict[str, object] = {"cutoff": cutoffs[table], "rows": rows}
        if ":final" in statement:
            query = query.bindparams(bindparam("final", expanding=True))
            params["final"] = FINAL
        while in_time():
            with database.unit_of_work() as session:
                count = session.execute(query, params).rowcount
            deleted[table] += count
            if count < rows:
                break
    return deleted
