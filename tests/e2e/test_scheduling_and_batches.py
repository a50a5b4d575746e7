"""Scheduled starts and admin batches through the whole local stack: the one-time schedule fired by the local
scheduler from moto, and the batch worker on its template schedule feeding the real pipeline."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta
from uuid import UUID

import boto3
from pypdf import PdfReader
from sqlalchemy import func, select

from storywink.db.tables import JobRun
from storywink.domain.enums import JobStatus, JobStep
from storywink.wiring import container

FINAL = {"COMPLETED", "PARTIAL", "FAILED"}


def pdf_renders(book_id: str) -> int:
    with container().database.sessions() as session:
        return session.execute(
            select(func.count()).where(
                JobRun.book_id == UUID(book_id), JobRun.step == JobStep.PDF, JobRun.status == JobStatus.SUCCEEDED
            )
        ).scalar_one()


def later(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


def test_a_scheduled_generation_starts_at_its_time_and_a_cancelled_one_never_does(api, stack, sample_photos):
    parent = api("parent")
    scheduled = parent.make_book(sample_photos[:1], title="Later")
    cancelled = parent.make_book(sample_photos[:1], title="Never")

    answer = parent("POST", f"/v1/books/{scheduled['id']}/generate", 202, json={"startAt": later(2)})
    parent("POST", f"/v1/books/{cancelled['id']}/generate", 202, json={"startAt": later(2)})
    parent("DELETE", f"/v1/books/{cancelled['id']}/schedule", 204)

    assert parent("GET", f"/v1/books/{scheduled['id']}/status")["status"] == "DRAFT"  # not before its time
    progress = parent.wait_for(scheduled["id"], FINAL, timeout=90)
    assert progress["status"] == "COMPLETED"
    book = parent("GET", f"/v1/books/{scheduled['id']}")
    assert book["scheduledStartAt"] is None and book["hasPdf"]
    events = boto3.client("stepfunctions").list_executions(stateMachineArn=stack.resources.state_machines["BookGenerationStateMachine"])
    (run,) = [e for e in events["executions"] if e["name"].startswith(scheduled["id"])]
    assert run["startDate"] >= datetime.fromisoformat(answer["scheduledStartAt"])
    assert not [e for e in events["executions"] if e["name"].startswith(cancelled["id"])]
    assert parent("GET", f"/v1/books/{cancelled['id']}")["status"] == "DRAFT"
    assert parent("GET", "/v1/me/usage")["generations"]["used"] == 1


def test_a_batch_re_renders_the_pdfs_of_three_books_at_a_bounded_rate_and_reports_progress(api, stack, sample_photos, settings, media):
    parent = api("parent")
    books = [parent.make_finished_book(sample_photos[:1], title=f"Book {n}") for n in range(3)]
    assert {parent("GET", f"/v1/books/{b['id']}/status")["status"] for b in books} == {"COMPLETED"}
    assert [pdf_renders(b["id"]) for b in books] == [1, 1, 1]
    settings.set(BATCH_BOOKS_PER_MINUTE="2")
    admin = api("operator")
    admin.http.headers["Authorization"] = f"Bearer {stack.mint_token('operator', admin=True)}"

    batch = admin("POST", "/v1/admin/batches", 202, json={"operation": "rerender-pdf", "bookIds": [b["id"] for b in books]})

    assert batch["total"] == 3
    seen_partial = False
    deadline = time.monotonic() + 120
    while True:
        progress = admin("GET", f"/v1/admin/batches/{batch['id']}")
        assert progress["total"] == 3
        assert progress["queued"] + progress["running"] + progress["done"] + progress["failed"] == 3
        seen_partial |= 0 < progress["queued"] < 3  # two a run, so the third waits
        if progress["finishedAt"] is not None:
            break
        assert time.monotonic() < deadline, progress
        time.sleep(0.5)
    assert progress["done"] == 3 and progress["failed"] == 0 and seen_partial
    assert {item["outcomeCode"] for item in progress["books"]} == {"COMPLETED"}
    for book in books:
        assert parent("GET", f"/v1/books/{book['id']}")["status"] == "COMPLETED"
        pdf = media.read(f"books/{book['id']}/book.pdf")
        assert len(PdfReader(io.BytesIO(pdf)).pages) >= 2
        assert pdf_renders(book["id"]) == 2  # the PDF step ran again
