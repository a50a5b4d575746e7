"""The local service-level page: the success metrics a session's books produced, for admins, in Chromium."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from storywink.local.slo import EmfTap


@pytest.fixture
def metrics_on(settings):
    settings.set(POWERTOOLS_METRICS_DISABLED="false")


@contextmanager
def tapped(board):
    """The EMF lines read into the stack's board. The stack taps standard output when it starts (as under
    `storywink dev`), but pytest puts its own capture in front for each test phase: the tap goes in front
    of that one while the block runs."""
    captured, sys.stdout = sys.stdout, EmfTap(sys.stdout, board)
    try:
        yield
    finally:
        sys.stdout = captured


@pytest.mark.browser
def test_the_page_shows_the_books_and_jobs_of_the_session_against_the_plan(api, stack, page, metrics_on, sample_photos):
    before = stack.slo.summary()["books"]["finished"]
    with tapped(stack.slo):
        api("slo-parent").make_finished_book(sample_photos[:2])
        deadline = time.monotonic() + 10  # the metric follows the commit that finished the book
        while stack.slo.summary()["books"]["finished"] == before and time.monotonic() < deadline:
            time.sleep(0.1)
    summary = stack.slo.summary()
    assert summary["books"]["finished"] == before + 1, summary
    assert summary["jobs"]["ILLUSTRATION"]["succeeded"] >= 2

    page.goto(f"{stack.api_url}/admin/slo")
    page.fill("#token", stack.mint_token("ops", admin=True))
    page.click("button[type=submit]")
    completed = page.locator('tr[data-measure="Books completed (%)"]')
    expect(completed).to_contain_text("≥ 90")
    expect(completed.locator("td.num").nth(2)).to_have_text(str(summary["books"]["finished"]))
    expect(page.locator('tr[data-measure="Job success, ILLUSTRATION (%)"]')).to_be_visible()
    expect(page.locator('tr[data-measure="Time to a finished book p95 (s)"] td.num').nth(1)).not_to_have_text("–")
    expect(page.locator("#books")).to_contain_text("COMPLETED")
    page.screenshot(path="/tmp/storywink-slo-page.png", full_page=True)


def test_the_data_is_for_admins_only(stack, page):
    page.goto(f"{stack.api_url}/admin/slo")
    page.fill("#token", stack.mint_token("parent"))
    page.click("button[type=submit]")
    expect(page.locator("#error")).to_contain_text("ADMIN_ONLY")
