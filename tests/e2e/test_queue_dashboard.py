"""The queue dashboard: JSON for tools, and a page for operators (checked in headless Chromium)."""

from __future__ import annotations

import json

import boto3
import pytest
from playwright.sync_api import expect

STEPS = {"story", "illustration", "finalize", "pdf", "priority-story", "priority-illustration"}


def admin_session(api, stack):
    admin = api("operator")
    admin.http.headers["Authorization"] = f"Bearer {stack.mint_token('operator', admin=True)}"
    return admin


def test_dashboard_json_lists_every_queue_and_recent_executions(api, stack, sample_photos):
    book = api("parent").make_finished_book(sample_photos[:1])
    board = admin_session(api, stack)("GET", "/v1/admin/queues")
    kinds = {(q["name"], q["kind"]) for q in board["queues"]}
    assert kinds == {(step, kind) for step in STEPS for kind in ("step", "dead-letter")}
    assert all({"depth", "inFlight", "delayed", "oldestMessageAgeSeconds"} <= set(q) for q in board["queues"])
    mine = [e for e in board["executions"] if e["bookId"] == book["id"]]
    assert [e["status"] for e in mine] == ["SUCCEEDED"]


def test_dashboard_json_is_for_admins_only(api):
    assert api("parent")("GET", "/v1/admin/queues", 403)["error"]["code"] == "ADMIN_ONLY"


@pytest.mark.browser
def test_dashboard_page_shows_queues_dead_letters_and_executions(api, stack, page, paused):
    sqs = boto3.client("sqs", endpoint_url=stack.moto_endpoint, region_name="us-east-1")
    body = json.dumps({"taskToken": "t", "bookId": "5b1d8f5e-0000-4000-8000-00000000dead"})
    with paused("DeadLetterHandlerFunction"):
        sqs.send_message(QueueUrl=stack.resources.queue_urls["IllustrationDeadLetterQueue"], MessageBody=body)
        page.goto(f"{stack.api_url}/admin/queues")
        page.fill("#token", stack.mint_token("operator", admin=True))
        page.click("button[type=submit]")
        expect(page.locator("#queues tbody tr")).to_have_count(2 * len(STEPS))
        alert = page.locator("#queues tbody tr.alert")
        expect(alert).to_have_count(1)
        expect(alert).to_contain_text("illustration")
        expect(alert).not_to_contain_text("priority")
        expect(page.locator("#dead-letters tbody")).to_contain_text("5b1d8f5e-0000-4000-8000-00000000dead")
        page.screenshot(path="/tmp/storywink-queues-page.png", full_page=True)
        (message,) = sqs.receive_message(QueueUrl=stack.resources.queue_urls["IllustrationDeadLetterQueue"])["Messages"]
        sqs.delete_message(
            QueueUrl=stack.resources.queue_urls["IllustrationDeadLetterQueue"], ReceiptHandle=message["ReceiptHandle"]
        )


def test_a_non_admin_token_gets_a_clear_error_on_the_page(stack, page):
    page.goto(f"{stack.api_url}/admin/queues")
    page.fill("#token", stack.mint_token("parent"))
    page.click("button[type=submit]")
    expect(page.locator("#error")).to_contain_text("ADMIN_ONLY")
