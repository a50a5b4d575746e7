"""In-process stand-ins for EventBridge Scheduler: the template's rate schedules, and the one-time at(...)
schedules the functions make at run time (read back from moto, which keeps them but never fires them)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

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


@dataclass(frozen=True)
class ScheduleTarget:
    """A function a schedule may invoke, by its ARN: the template's logical id, handler and timeout."""

    function_name: str
    handler: Handler
    timeout_seconds: float


AT_EXPRESSION = re.compile(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")


def due_time(schedule: dict[str, Any]) -> datetime | None:
    """When a one-time schedule is due (its at(...) in its time zone), or None for any other expression."""
    match = AT_EXPRESSION.fullmatch(schedule["ScheduleExpression"].strip())
    if match is None:
        return None
    zone = ZoneInfo(schedule.get("ScheduleExpressionTimezone") or "UTC")
    return datetime.fromisoformat(match.group(1)).replace(tzinfo=zone)


class OneTimeSchedules:
    """EventBridge Scheduler's one-time schedules, which moto stores but never fires.

    Every ``poll_seconds`` it lists the schedules of the template's schedule groups in moto; each enabled
    at(...) schedule that is due is invoked in-process with its target's Input, as Scheduler invokes a
    Lambda target, then deleted if its ActionAfterCompletion says DELETE. As on AWS a schedule never fires
    before its time and may fire late (by up to a poll, or more while an earlier fire runs); a fire that
    raises is tried again at the following polls until the target's RetryPolicy's attempts are spent; and
    nothing here prevents a second fire, as nothing on AWS does: the target is what must not mind.
    """

    def __init__(
        self,
        client: Any,
        groups: list[str],
        targets: Callable[[str], ScheduleTarget | None],
        runtime: Any,
        poll_seconds: float = 0.5,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.groups = groups
        self.targets = targets
        self.runtime = runtime
        self.poll_seconds = poll_seconds
        self.clock = clock
        self.fired: list[str] = []  # the schedules' names, once per invocation
        self._failures: dict[str, int] = {}
        self._done: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="one-time-schedules", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def fire_due(self) -> int:
        """Invoke every schedule due now; returns how many were invoked."""
        invoked = 0
        for group in self.groups:
            for listed in self._listed(group):
                if listed.get("State") != "ENABLED" or listed["Arn"] in self._done:
                    continue
                try:
                    schedule = self.client.get_schedule(GroupName=group, Name=listed["Name"])
                except self.client.exceptions.ResourceNotFoundException:
                    continue  # deleted since it was listed
                due = due_time(schedule)
                if due is None or self.clock() < due:
                    continue
                self._fire(group, schedule)
                invoked += 1
        return invoked

    def _listed(self, group: str) -> list[dict[str, Any]]:
        schedules: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = self.client.list_schedules(GroupName=group, **({"NextToken": token} if token else {}))
            schedules.extend(page.get("Schedules", []))
            token = page.get("NextToken")
            if not token:
                return schedules

    def _fire(self, group: str, schedule: dict[str, Any]) -> None:
        target = schedule["Target"]
        function = self.targets(target["Arn"])
        name = schedule["Name"]
        if function is None:
            logger.warning("schedule targets no function of the template", extra={"schedule": name, "target": target["Arn"]})
            self._complete(group, schedule)
            return
        event = json.loads(target.get("Input") or "{}")
        context = LocalLambdaContext(function.function_name, timeout_seconds=function.timeout_seconds)
        self.fired.append(name)
        try:
            self.runtime.invoke(function.function_name, 128, function.timeout_seconds, function.handler, event, context)
        except Exception:  # noqa: BLE001 - as Scheduler does, a failed fire is retried, then given up
            failures = self._failures[name] = self._failures.get(name, 0) + 1
            allowed = int(target.get("RetryPolicy", {}).get("MaximumRetryAttempts", 185))
            logger.exception("scheduled invocation failed", extra={"schedule": name, "failures": failures})
            if failures <= allowed:
                return
        self._failures.pop(name, None)
        self._complete(group, schedule)

    def _complete(self, group: str, schedule: dict[str, Any]) -> None:
        if schedule.get("ActionAfterCompletion") == "DELETE":
            try:
                self.client.delete_schedule(GroupName=group, Name=schedule["Name"])
            except self.client.exceptions.ResourceNotFoundException:
                pass  # deleted meanwhile (a cancel)
        else:
            # Scheduler leaves a one-time schedule without that action in place, and it fires no more.
            self._done.add(schedule["Arn"])

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.fire_due()
            except Exception:  # noqa: BLE001 - moto unreachable for a moment: the next poll tries again
                logger.exception("one-time schedules not read")
