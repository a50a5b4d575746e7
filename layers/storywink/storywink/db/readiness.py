"""Whether the database answers, asked at most once every few seconds per container.

A readiness probe (a load balancer, an uptime canary) may call often; each call that reached the
database would hold one of its few connections for a round trip. The answer, either way, is kept for
``ttl_seconds``; concurrent callers in that time share it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text

from storywink.db.engine import Database
from storywink.observability import logger


@dataclass(frozen=True)
class Readiness:
    database_ok: bool
    checked_at: float  # time.monotonic() of the check


class DatabaseReadiness:
    def __init__(self, database: Database, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._database = database
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._last: Readiness | None = None

    def check(self) -> Readiness:
        with self._lock:
            now = self._clock()
            if self._last is None or now - self._last.checked_at >= self._ttl:
                self._last = Readiness(self._ping(), now)
            return self._last

    def _ping(self) -> bool:
        try:
            with self._database.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - whatever the failure, the database is not ready
            logger.exception("readiness check: database unreachable")
            return False
        return True
