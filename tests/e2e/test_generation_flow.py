"""Photos in, picture book out: the real state machine, queues, workers and API on the local stack."""

from __future__ import annotations

import io
import json

import boto3
import httpx
from pypdf import PdfReader


def pdf_of(api_session, book_id: str) -> PdfReader:
    link = api_session("GET", f"/v1/books/{book_id}/pdf")
    return PdfReader(io.BytesIO(httpx.get(link["url"]).raise_for_status().content))


def test_photos_become_a_completed_book_with_a_pdf(api, stack, sample_photos):
    parent = api("parent")
    book = parent.make_book(sample_photos[:3], artStyle="cartoon", theme="space", autoIllustrate=True)
    started = parent("POST", f"/v1/books/{book['id']}/generate", 202)
    assert started["executionName"] == f"{book['id']}-1"

    progress = parent.wait_for(book["id"], {"COMPLETED", "PARTIAL", "FAILED"})
    assert progress == {
        "status": "COMPLETED",
        "storyGeneration": {"started": True, "completed": True, "error": None},
        "illustrations": {"total": 3, "completed": 3, "failed": 0, "inProgress": 0},
    }
    finished = parent("GET", f"/v1/books/{book['id']}")
    assert all(page["text"] and page["illustrationUrl"] for page in finished["pages"])
    assert all(page["moderationStatus"] == "OK" for page in finished["pages"])
    for page in finished["pages"]:
        assert httpx.get(page["illustrationUrl"]).content[:8] == b"\x89PNG\r\n\x1a\n"
    reader = pdf_of(parent, book["id"])
    assert len(reader.pages) == 1 + 3
    assert "Zoë" in reader.pages[0].extract_text()

    sfn = boto3.client("stepfunctions", endpoint_url=stack.moto_endpoint, region_name="us-east-1")
    assert sfn.describe_execution(executionArn=started["executionArn"])["status"] == "SUCCEEDED"


def test_story_first_then_edited_text_is_illustrated_and_printed(api, sample_photos):
    parent = api("parent")
    book = parent.make_book(sample_photos[:2], autoIllustrate=False)
    parent("POST", f"/v1/books/{book['id']}/generate", 202)
    parent.wait_for(book["id"], {"STORY_READY", "FAILED"})
    ready = parent("GET", f"/v1/books/{book['id']}")
    assert ready["status"] == "STORY_READY" and all(page["text"] for page in ready["pages"])
    assert all(page["moderationStatus"] == "PENDING" for page in ready["pages"])

    edited = "Zoë and Grandpa Łukasz counted every single star."
    page_id = ready["pages"][1]["id"]
    parent("PATCH", f"/v1/books/{book['id']}/pages/{page_id}", json={"text": edited, "textConfirmed": True})
    started = parent("POST", f"/v1/books/{book['id']}/illustrate", 202)
    assert started["mode"] == "ILLUSTRATE" and started["attempt"] == 2

    assert parent.wait_for(book["id"], {"COMPLETED", "PARTIAL", "FAILED"})["status"] == "COMPLETED"
    assert parent("GET", f"/v1/books/{book['id']}")["pages"][1]["text"] == edited
    text = " ".join(page.extract_text() for page in pdf_of(parent, book["id"]).pages)
    assert "Grandpa Łukasz counted every single star" in " ".join(text.split())


def test_generating_twice_starts_one_execution(api, stack, sample_photos):
    parent = api("parent")
    book = parent.make_book(sample_photos[:1])
    first = parent("POST", f"/v1/books/{book['id']}/generate", 202)
    second = parent.http.post(f"/v1/books/{book['id']}/generate")
    assert second.status_code == 409 and second.json()["error"]["code"] == "GENERATION_IN_PROGRESS"
    parent.wait_for(book["id"], {"COMPLETED", "PARTIAL", "FAILED"})
    sfn = boto3.client("stepfunctions", endpoint_url=stack.moto_endpoint, region_name="us-east-1")
    arn = stack.resources.state_machines["BookGenerationStateMachine"]
    names = [e["name"] for e in sfn.list_executions(stateMachineArn=arn)["executions"] if e["name"].startswith(book["id"])]
    assert names == [first["executionName"]]


def test_a_book_without_photos_cannot_be_generated(api):
    parent = api("parent")
    book = parent("POST", "/v1/books", 201, json={"title": "Empty", "childName": "Ada"})
    error = parent("POST", f"/v1/books/{book['id']}/generate", 422)["error"]
    assert error["code"] == "BOOK_HAS_NO_PHOTOS"


def test_illustrate_needs_a_story_ready_book(api, sample_photos):
    parent = api("parent")
    book = parent.make_book(sample_photos[:1])
    assert parent("POST", f"/v1/books/{book['id']}/illustrate", 409)["error"]["code"] == "BOOK_STATE_CONFLICT"


def test_pdf_is_not_found_before_the_book_is_made(api, sample_photos):
    parent = api("parent")
    book = parent.make_book(sample_photos[:1])
    assert parent("GET", f"/v1/books/{book['id']}/pdf", 404)["error"]["code"] == "PDF_NOT_READY"


def test_another_user_cannot_start_my_book(api, sample_photos):
    book = api("parent").make_book(sample_photos[:1])
    stranger = api("stranger")
    for path in ("generate", "illustrate"):
        assert stranger("POST", f"/v1/books/{book['id']}/{path}", 404)["error"]["code"] == "BOOK_NOT_FOUND"
    assert stranger("GET", f"/v1/books/{book['id']}/pdf", 404)["error"]["code"] == "BOOK_NOT_FOUND"


def test_the_job_history_records_every_step(api, stack, sample_photos, session):
    from sqlalchemy import select

    from storywink.db.tables import JobRun

    parent = api("parent")
    book = parent.make_book(sample_photos[:2])
    parent("POST", f"/v1/books/{book['id']}/generate", 202)
    parent.wait_for(book["id"], {"COMPLETED", "PARTIAL", "FAILED"})
    runs = session.execute(select(JobRun.step, JobRun.status).where(JobRun.book_id == book["id"])).all()
    assert sorted((step.value, status.value) for step, status in runs) == [
        ("FINALIZE", "SUCCEEDED"), ("ILLUSTRATION", "SUCCEEDED"), ("ILLUSTRATION", "SUCCEEDED"),
        ("PDF", "SUCCEEDED"), ("STORY", "SUCCEEDED"),
    ]


def test_a_premium_parents_book_runs_on_the_priority_queues(api, stack, sample_photos, session):
    from sqlalchemy import select

    from storywink.db.tables import JobRun

    premium = api("premium-parent")
    premium.http.headers["Authorization"] = f"Bearer {stack.mint_token('premium-parent', plan='premium')}"
    book = premium.make_book(sample_photos[:2])
    started = premium("POST", f"/v1/books/{book['id']}/generate", 202)
    assert premium.wait_for(book["id"], {"COMPLETED", "PARTIAL", "FAILED"})["status"] == "COMPLETED"

    sfn = boto3.client("stepfunctions", endpoint_url=stack.moto_endpoint, region_name="us-east-1")
    history = sfn.get_execution_history(executionArn=started["executionArn"], maxResults=1000)["events"]
    sent_to = {
        json.loads(e["taskScheduledEventDetails"]["parameters"])["QueueUrl"]
        for e in history
        if e["type"] == "TaskScheduled"
    }
    queues = stack.resources.queue_urls
    assert {queues["PriorityStoryQueue"], queues["PriorityIllustrationQueue"]} <= sent_to
    assert not {queues["StoryQueue"], queues["IllustrationQueue"]} & sent_to
    assert len(session.execute(select(JobRun).where(JobRun.book_id == book["id"])).all()) == 5
