"""The plan's success metrics, emitted by a whole generation: read back from the EMF lines the
functions print (what CloudWatch would ingest), not from a mock of Powertools."""

from __future__ import annotations

import json
import time
from collections import Counter

import boto3
import pytest
from test_failure_handling import assert_settled, fail_pages


@pytest.fixture
def sfn(stack):
    return boto3.client("stepfunctions", endpoint_url=stack.moto_endpoint, region_name="us-east-1")


@pytest.fixture
def emf(settings, capsys):
    """The EMF records printed from now on, parsed: metrics are on for this test only."""
    settings.set(POWERTOOLS_METRICS_DISABLED="false")
    capsys.readouterr()
    records: list[dict] = []

    def read() -> list[dict]:
        for line in capsys.readouterr().out.splitlines():
            if line.startswith('{"_aws"'):
                records.append(json.loads(line))
        return records

    return read


def _named(records: list[dict], name: str) -> list[dict]:
    return [r for r in records if name in r and any(m["Name"] == name for d in r["_aws"]["CloudWatchMetrics"] for m in d["Metrics"])]


def _wait_for(read, name: str, count: int, timeout: float = 10.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _named(read(), name)
        if len(found) >= count:
            return found
        time.sleep(0.1)
    return _named(read(), name)


def test_a_generation_emits_the_success_metrics_and_a_partial_book_counts_as_partial(
    api, stack, sfn, sample_photos, settings, emf
):
    parent = api("metrics-parent")
    whole = parent.make_book(sample_photos[:2])
    partial = parent.make_book(sample_photos[:3])
    fail_pages(settings, "content-policy", partial["pages"][2]["id"])
    for book in (whole, partial):
        parent("POST", f"/v1/books/{book['id']}/generate", 202)
    assert assert_settled(parent, sfn, stack, whole["id"])["status"] == "COMPLETED"
    assert assert_settled(parent, sfn, stack, partial["id"])["status"] == "PARTIAL"

    finished = _wait_for(emf, "BookFinished", 2)
    assert sorted((r["outcome"], r["plan"], r["BookFinished"]) for r in finished) == [
        ("COMPLETED", "free", [1.0]),
        ("PARTIAL", "free", [1.0]),
    ]
    for record in finished:
        assert record["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service", "outcome", "plan"]]
        assert "bookId" not in record  # dimensions stay small: no ids
    to_book = _wait_for(emf, "TimeToBookSeconds", 2)
    assert len(to_book) == 2 and all(0 < r["TimeToBookSeconds"][0] < 300 for r in to_book)
    assert all(r["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]] for r in to_book)
    first_page = _wait_for(emf, "TimeToFirstPageSeconds", 2)
    assert len(first_page) == 2  # one per book: only its first illustrated page
    assert max(r["TimeToFirstPageSeconds"][0] for r in first_page) <= max(r["TimeToBookSeconds"][0] for r in to_book)

    records = emf()
    succeeded = Counter(r["step"] for r in _named(records, "JobSucceeded"))
    failed = Counter((r["step"], r["errorClass"]) for r in _named(records, "JobFailed"))
    assert succeeded["STORY"] == 2 and succeeded["ILLUSTRATION"] == 4 and succeeded["PDF"] == 2, succeeded
    assert failed == {("ILLUSTRATION", "Provider.ContentPolicy"): 1}, failed
