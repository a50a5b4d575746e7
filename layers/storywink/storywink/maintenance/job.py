"""The maintenance job, run by a schedule every few minutes (MaintenanceFunction): each run

1. creates the book_events partitions of this month and the next three, and drops whole months past the
   events' retention window;
2. repairs stuck books (stuck_books.py);
3. deletes what is past its retention window, in bounded batches (retention.py);
4. sweeps a bounded slice of the media bucket (media_sweep.py).

Everything is bounded by the time the run has (the Lambda's remaining time, less a margin): what is left is
the next run's. Each step is idempotent, and two runs at once are safe: partition changes take an advisory
lock, deletions skip rows another run has locked, and the stuck-book check and the media sweep each hold a
lease the other run respects.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from storywink.db.engine import Database
from storywink.maintenance import leases, retention
from storywink.maintenance.media_sweep import MediaSweep
from storywink.maintenance.retention import RetentionWindows
from storywink.maintenance.stuck_books import StuckBooks
from storywink.observability import logger

# Left at the end of a run for the last batch to finish and the result to be logged.
MARGIN_SECONDS = 10.0


class Maintenance:
    def __init__(
        self,
        database: Database,
        stuck_books: StuckBooks,
        media_sweep: MediaSweep,
        *,
        windows: RetentionWindows,
        batch_rows: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        self.stuck_books = stuck_books
        self.media_sweep = media_sweep
        self.windows = windows
        self.batch_rows = batch_rows
        self.clock = clock

    def run(self, seconds: float, now: datetime | None = None) -> dict[str, Any]:
        """One run with ``seconds`` to spend (the invocation's remaining time); what it did."""
        now = now or datetime.now(UTC)
        deadline = self.clock() + max(seconds - MARGIN_SECONDS, 1.0)

        def in_time() -> bool:
            return self.clock() < deadline

        result: dict[str, Any] = {"partitions": retention.maintain_partitions(self.database, now, now - self.windows.events)}
        result["stuckBooks"] = self._leased("stuck_books", seconds, lambda lease: self.stuck_books.run(lease, in_time))
        result["deleted"] = retention.delete_expired(self.database, self.windows, now, self.batch_rows, in_time)
        result["media"] = self._leased("media_sweep", seconds, lambda lease: self.media_sweep.run(lease, now, in_time))
        logger.info("maintenance", extra={"action": "maintenance.run", **result})
        return result

    def _leased(self, task: str, seconds: float, work: Callable[[leases.Lease], dict[str, int]]) -> dict[str, int] | None:
        """The task's work under its lease; None when another run holds it."""
        with self.database.unit_of_work() as session:
            lease = leases.claim(session, task, seconds)
        if lease is None:
            return None
        try:
            return work(lease)
        finally:
            with self.database.unit_of_work() as session:
                leases.release(session, lease)


def windows_from_days(events: int, job_runs: int, idempotency: int, usage_counters: int) -> RetentionWindows:
    return RetentionWindows(
        events=timedelta(days=events),
        job_runs=timedelta(days=job_runs),
        idempotency=timedelta(days=idempotency),
        usage_counters=timedelta(days=usage_counters),
    )
