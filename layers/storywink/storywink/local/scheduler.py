"""An in-process stand-in for EventBridge Scheduler: invokes a function at the template's rate."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from storywink.local.lambda_runtime import Handler, LocalLambdaContext
from storywink.local.resources import Schedule
from storywink.observability import logger


def scheduled_event(schedule: Schedule) -> dict:
    return {
        "version": "0",
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "resources": [f"arn:aws:scheduler:us-east-1:123456789012:schedule/default/{schedule.function_name}"],
        "detail": {},
    }


class LocalScheduler:
    """Runs one schedule every ``rate_seconds × time_scale`` seconds until stopped."""

    def __init__(self, schedule: Schedule, handler: Handler, runtime: Any, time_scale: float = 1.0) -> None:
        self.schedule = schedule
        self.handler = handler
        self.runtime = runtime
        self.interval = schedule.rate_seconds * time_scale
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"schedule-{self.schedule.function_name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def run_once(self) -> object:
        self.runs += 1
        schedule = self.schedule
        context = LocalLambdaContext(schedule.function_name, timeout_seconds=schedule.timeout_seconds)
        return self.runtime.invoke(
            schedule.function_name, 128, schedule.timeout_seconds, self.handler, scheduled_event(schedule), context
        )

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - a failed run is logged; the next one comes at the rate
                logger.exception("scheduled function failed", extra={"function": self.schedule.function_name})
