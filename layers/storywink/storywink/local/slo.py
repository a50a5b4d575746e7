"""The plan's success metrics for a local session, computed from the EMF lines the functions print.

CloudWatch turns those lines into metrics in the cloud; locally `EmfTap` reads them off the process's
standard output (passing every line on unchanged) into a `SloBoard`, which the local stack serves at
/admin/slo: counts, rates and percentiles of what this session's books went through, with the plan's
targets beside them, so a developer sees them without an AWS account.
"""

from __future__ import annotations

import io
import json
import math
import threading
from collections import defaultdict
from typing import Any, TextIO

EMF_PREFIX = '{"_aws"'
# The plan's numbers (template.yaml's parameter defaults).
TARGETS = {
    "apiLatencyP95Ms": 200,
    "apiLatencyP99Ms": 1000,
    "apiErrorRatePercent": 0.1,
    "jobSuccessRatePercent": 95,
    "completedBookRatePercent": 90,
    "timeToBookP95Seconds": 600,
}


def percentile(values: list[float], rank: float) -> float | None:
    """Nearest-rank percentile, as CloudWatch reports one for few values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(rank / 100 * len(ordered)) - 1)]


def _spread(values: list[float]) -> dict[str, float | int | None]:
    def rounded(rank: float) -> float | None:
        value = percentile(values, rank)
        return None if value is None else round(value, 1)

    return {"count": len(values), "p50": rounded(50), "p95": rounded(95)}


def _rate(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 2) if whole else None


class SloBoard:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[tuple[str, tuple[tuple[str, str], ...]], list[float]] = defaultdict(list)

    def add(self, record: dict[str, Any]) -> None:
        """One EMF record: every metric of every directive, with that directive's dimensions."""
        with self._lock:
            for directive in record["_aws"]["CloudWatchMetrics"]:
                for dimension_set in directive.get("Dimensions") or [[]]:
                    dimensions = tuple(sorted((name, str(record[name])) for name in dimension_set))
                    for metric in directive["Metrics"]:
                        value = record.get(metric["Name"])
                        if value is not None:
                            self._values[(metric["Name"], dimensions)].extend(value if isinstance(value, list) else [value])

    def _all(self, name: str, **match: str) -> list[float]:
        with self._lock:
            return [
                value
                for (metric, dimensions), values in self._values.items()
                if metric == name and set(match.items()) <= set(dimensions)
                for value in values
            ]

    def _by(self, name: str, dimension: str) -> dict[str, float]:
        totals: dict[str, float] = defaultdict(float)
        with self._lock:
            for (metric, dimensions), values in self._values.items():
                named = dict(dimensions)
                if metric == name and dimension in named:
                    totals[named[dimension]] += sum(values)
        return dict(totals)

    def summary(self) -> dict[str, Any]:
        outcomes = self._by("BookFinished", "outcome")
        finished = sum(outcomes.values())
        succeeded = self._by("JobSucceeded", "step")
        failed = self._by("JobFailed", "step")
        steps = sorted(set(succeeded) | set(failed))
        to_book = self._all("TimeToBookSeconds")
        first_page = self._all("TimeToFirstPageSeconds")
        latency = self._all("ApiLatency")
        requests = sum(self._all("ApiRequests"))
        errors = sum(self._all("ApiServerErrors"))
        return {
            "targets": TARGETS,
            "books": {
                "finished": int(finished),
                "byOutcome": {outcome: int(count) for outcome, count in sorted(outcomes.items())},
                "completedRatePercent": _rate(outcomes.get("COMPLETED", 0), finished),
            },
            "timeToBookSeconds": _spread(to_book),
            "timeToFirstPageSeconds": _spread(first_page),
            "jobs": {
                step: {
                    "succeeded": int(succeeded.get(step, 0)),
                    "failed": int(failed.get(step, 0)),
                    "successRatePercent": _rate(succeeded.get(step, 0), succeeded.get(step, 0) + failed.get(step, 0)),
                }
                for step in steps
            },
            "api": {
                "requests": int(requests),
                "serverErrors": int(errors),
                "errorRatePercent": _rate(errors, requests),
                "latencyMsP50": percentile(latency, 50),
                "latencyMsP95": percentile(latency, 95),
                "latencyMsP99": percentile(latency, 99),
            },
        }


class EmfTap(io.TextIOBase):
    """Standard output that hands each EMF line to a board on its way through."""

    def __init__(self, stream: TextIO, board: SloBoard) -> None:
        self.stream = stream
        self.board = board
        self._partial = threading.local()

    def write(self, text: str) -> int:
        pending = getattr(self._partial, "text", "") + text
        *lines, rest = pending.split("\n")
        self._partial.text = rest
        for line in lines:
            if line.startswith(EMF_PREFIX):
                try:
                    self.board.add(json.loads(line))
                except (ValueError, KeyError, TypeError):
                    pass  # not a record we understand: it still goes through
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "encoding", "utf-8")
