"""The custom resource protocol of the migration function, without a database."""

from __future__ import annotations

import json
import time
from pathlib import Path

from storywink.db.migration_resource import REASON_LIMIT, handle_migration_request
from storywink.local.lambda_runtime import LocalLambdaContext

EVENT = json.loads((Path(__file__).resolve().parents[2] / "events" / "migrate_database.json").read_text())


def answer(migrate, *, timeout_seconds: float = 600, request_type: str = "Update") -> dict:
    sent: list[tuple[str, dict]] = []
    event = {**EVENT, "RequestType": request_type}
    handle_migration_request(
        event, LocalLambdaContext("DatabaseMigrationFunction", timeout_seconds=timeout_seconds), migrate,
        send=lambda url, body: sent.append((url, json.loads(body))),
    )
    assert [url for url, _ in sent] == [EVENT["ResponseURL"]]
    return sent[0][1]


def test_work_that_outlasts_the_invocation_is_answered_failed_before_the_end():
    # 16 s left and 15 s kept back to answer: the work gets one second.
    result = answer(lambda: time.sleep(5) or "0006", timeout_seconds=16)
    assert result["Status"] == "FAILED"
    assert result["Reason"].startswith("TimeoutError")


def test_a_long_error_is_cut_to_fit_the_answer():
    def fail() -> str:
        raise RuntimeError("x" * 10_000)

    result = answer(fail)
    assert result["Status"] == "FAILED"
    assert len(result["Reason"]) == REASON_LIMIT
    assert len(json.dumps(result)) < 4096


def test_delete_never_migrates():
    def must_not_run() -> str:
        raise AssertionError("Delete ran the migrations")

    assert answer(must_not_run, request_type="Delete")["Status"] == "SUCCESS"


def test_success_names_the_revision_and_keeps_the_physical_id():
    result = answer(lambda: "0006")
    assert result["Status"] == "SUCCESS"
    assert result["Data"] == {"Revision": "0006"}
    assert result["PhysicalResourceId"] == EVENT["PhysicalResourceId"]
