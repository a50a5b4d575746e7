"""The local service-level board reads EMF lines as CloudWatch would and computes the plan's numbers."""

from __future__ import annotations

import io
import json

from storywink.local.slo import EmfTap, SloBoard, percentile


def emf(name: str, value, unit: str = "Count", **dimensions: str) -> str:
    names = ["service", *dimensions]
    record = {
        "_aws": {"Timestamp": 0, "CloudWatchMetrics": [{"Namespace": "Storywink", "Dimensions": [names], "Metrics": [{"Name": name, "Unit": unit}]}]},
        "service": "storywink",
        **dimensions,
        name: value,
    }
    return json.dumps(record, separators=(",", ":"))


def test_the_board_counts_books_jobs_and_waits_from_emf_lines_passing_them_through():
    board = SloBoard()
    out = io.StringIO()
    tap = EmfTap(out, board)
    lines = [
        emf("BookFinished", [1.0], outcome="COMPLETED", plan="free"),
        emf("BookFinished", [1.0], outcome="COMPLETED", plan="premium"),
        emf("BookFinished", [1.0], outcome="PARTIAL", plan="free"),
        emf("TimeToBookSeconds", [30.0], unit="Seconds"),
        emf("TimeToBookSeconds", [90.0], unit="Seconds"),
        emf("JobSucceeded", [1.0], step="ILLUSTRATION"),
        emf("JobSucceeded", [1.0], step="ILLUSTRATION"),
        emf("JobSucceeded", [1.0], step="ILLUSTRATION"),
        emf("JobFailed", [1.0], step="ILLUSTRATION", errorClass="Provider.ContentPolicy"),
        "an ordinary log line",
    ]
    text = "\n".join(lines) + "\n"
    tap.write(text[:50])  # a line may arrive in pieces
    tap.write(text[50:])

    summary = board.summary()
    assert out.getvalue() == text
    assert summary["books"] == {"finished": 3, "byOutcome": {"COMPLETED": 2, "PARTIAL": 1}, "completedRatePercent": 66.67}
    assert summary["timeToBookSeconds"] == {"count": 2, "p50": 30.0, "p95": 90.0}
    assert summary["jobs"] == {"ILLUSTRATION": {"succeeded": 3, "failed": 1, "successRatePercent": 75.0}}


def test_the_api_numbers_come_from_the_shared_metrics_lines():
    board = SloBoard()
    record = {
        "_aws": {
            "Timestamp": 0,
            "CloudWatchMetrics": [
                {
                    "Namespace": "Storywink",
                    "Dimensions": [["service"]],
                    "Metrics": [{"Name": "ApiRequests", "Unit": "Count"}, {"Name": "ApiServerErrors", "Unit": "Count"}, {"Name": "ApiLatency", "Unit": "Milliseconds"}],
                }
            ],
        },
        "service": "storywink",
        "ApiRequests": [1.0, 1.0, 1.0, 1.0],
        "ApiServerErrors": [0.0, 0.0, 0.0, 1.0],
        "ApiLatency": [10.0, 12.0, 40.0, 250.0],
    }
    board.add(record)
    api = board.summary()["api"]
    assert api["requests"] == 4 and api["serverErrors"] == 1 and api["errorRatePercent"] == 25.0
    assert api["latencyMsP50"] == 12.0 and api["latencyMsP95"] == 250.0


def test_percentiles_are_nearest_rank():
    assert percentile([], 95) is None
    assert percentile([5.0], 95) == 5.0
    assert percentile([float(n) for n in range(1, 101)], 95) == 95.0
