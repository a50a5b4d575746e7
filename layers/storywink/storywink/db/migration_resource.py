"""The deploy's schema upgrade, as a CloudFormation custom resource: one request in, one answer out.

CloudFormation sends Create, Update or Delete and then waits for the outcome to be PUT to the request's
pre-signed ResponseURL; a function that never answers holds the deploy for an hour. So every request is
answered, whatever happens:
- Create and Update run the migrations (Alembic at head does nothing, so running twice is a no-op) and
  answer SUCCESS with the revision the database is at;
- Delete answers SUCCESS and touches nothing: the schema lives as long as the data (the cluster keeps a
  final snapshot), and a resource replaced during an update must not drop what its successor uses;
- an error, or the work outlasting the function's remaining time, answers FAILED with the reason, which
  CloudFormation shows on the event and rolls the deploy back.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable
from typing import Any, Protocol

PHYSICAL_RESOURCE_ID = "storywink-database-schema"
# CloudFormation rejects a response over 4 KiB; the reason is the part that can grow.
REASON_LIMIT = 1000
# Time kept back to answer once the work has taken what the invocation has left.
ANSWER_MARGIN_SECONDS = 15.0


class InvocationContext(Protocol):
    log_stream_name: str

    def get_remaining_time_in_millis(self) -> int: ...


Migrate = Callable[[], str | None]
Send = Callable[[str, bytes], None]


def handle_migration_request(
    event: dict[str, Any], context: InvocationContext, migrate: Migrate, send: Send | None = None
) -> dict[str, Any]:
    """Do what the request asks and answer it; returns the answer sent."""
    status, reason, data = "SUCCESS", f"Details in the log stream {context.log_stream_name}", {}
    if event["RequestType"] in ("Create", "Update"):
        seconds = max(1.0, context.get_remaining_time_in_millis() / 1000 - ANSWER_MARGIN_SECONDS)
        try:
            data = {"Revision": _within(seconds, migrate) or ""}
        except Exception as error:  # noqa: BLE001 - every failure is an answer, never a silent hour-long wait
            status, reason = "FAILED", f"{type(error).__name__}: {error}"[:REASON_LIMIT]
    answer = {
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": event.get("PhysicalResourceId") or PHYSICAL_RESOURCE_ID,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": data,
    }
    (send or put_answer)(event["ResponseURL"], json.dumps(answer).encode())
    return answer


def put_answer(url: str, body: bytes) -> None:
    """PUT the answer to the pre-signed URL (S3): no content type, as the signature expects."""
    request = urllib.request.Request(url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))})
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def _within(seconds: float, work: Migrate) -> str | None:
    """Run ``work`` but give up waiting after ``seconds`` (the thread is left to the dying invocation)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:  # noqa: BLE001 - handed back to the caller below
            outcome["error"] = error

    worker = threading.Thread(target=run, name="migration", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TimeoutError(f"the migrations did not finish within {seconds:.0f} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")
