"""The whole local stack in this process: workers, state machine and API, driven with real HTTP clients."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from storywink.local.stack import LocalStack, StackOptions

FINAL = {"COMPLETED", "PARTIAL", "FAILED"}


# ---------------------------------------------------------------- headless Chromium (Debian's)
CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run this test")
    with sync_playwright() as playwright:
        try:
            # launch() gives every browser a fresh temporary user data dir and removes it on close.
            launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        except PlaywrightError as error:
            pytest.skip(f"Playwright cannot launch {CHROMIUM}: {' '.join(error.message.split())[:400]}")
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], f"the page raised: {errors}"



def _reset_container() -> None:
    from storywink.wiring import use_container

    use_container(None)


@pytest.fixture(scope="session")
def stack(aws_environment: str, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """One local stack for the e2e tests, sharing the session's moto server and database; the
    process environment is put back afterwards so other tests see their own settings."""
    saved = dict(os.environ)
    local = LocalStack(
        StackOptions(
            state_dir=tmp_path_factory.mktemp("stack"),
            moto_endpoint=aws_environment,
            database_url=database_url,
            # Cloud semantics on a shorter clock: a crashed worker's record comes back after a second (the
            # worker sets its visibility), leases last two seconds and the sweeper runs every three; a stuck
            # WebSocket client's push gives up after a second; an account deletion's last pass waits a second
            # for late writes, not fifteen minutes.
            extra_environment={
                "POWERTOOLS_METRICS_DISABLED": "true",
                "CRASH_REDELIVERY_SECONDS": "1",
                "JOB_LEASE_SECONDS": "2",
                "PUSH_TIMEOUT_SECONDS": "1",
                # The tests poll a book's status four times a second, often for several books of one user.
                "READ_LIMIT_FREE_PER_MINUTE": "100000",
                "ACCOUNT_DELETION_SETTLE_SECONDS": "1",
            },
            schedule_time_scale=0.05,
        )
    ).start()
    try:
        yield local
    finally:
        local.stop()
        os.environ.clear()
        os.environ.update(saved)
        _reset_container()


class ApiSession:
    """A real HTTP client against the stack's API, as one user."""

    def __init__(self, stack: LocalStack, user: str) -> None:
        self.http = httpx.Client(
            base_url=stack.api_url, headers={"Authorization": f"Bearer {stack.mint_token(user)}"}, timeout=30
        )

    def __call__(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def make_book(self, photos: list[Path], **fields: Any) -> dict[str, Any]:
        book = self("POST", "/v1/books", 201, json={"title": "Our Day", "childName": "Zoë", **fields})
        tickets = self(
            "POST",
            f"/v1/books/{book['id']}/photos",
            json={"photos": [{"contentType": "image/jpeg", "size": p.stat().st_size} for p in photos]},
        )["uploads"]
        for ticket, photo in zip(tickets, photos, strict=True):
            httpx.put(ticket["url"], content=photo.read_bytes(), headers=ticket["headers"]).raise_for_status()
        return self(
            "POST", f"/v1/books/{book['id']}/photos/confirm", 201, json={"uploadIds": [t["uploadId"] for t in tickets]}
        )

    def make_finished_book(self, photos: list[Path], **fields: Any) -> dict[str, Any]:
        """A book generated to a final status."""
        book = self.make_book(photos, **fields)
        self("POST", f"/v1/books/{book['id']}/generate", 202)
        self.wait_for(book["id"], FINAL)
        return book

    def wait_for(self, book_id: str, statuses: set[str], timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            progress = self("GET", f"/v1/books/{book_id}/status")
            if progress["status"] in statuses:
                return progress
            assert time.monotonic() < deadline, f"book {book_id} stuck at {progress}"
            time.sleep(0.25)


@pytest.fixture
def api(stack: LocalStack, db) -> Callable[[str], ApiSession]:
    return lambda user="parent": ApiSession(stack, user)


class StackSettings:
    """Environment changes for one test, applied to the running stack and undone after it."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.saved: dict[str, str | None] = {}

    def set(self, **variables: str) -> None:
        self._change(variables)

    def unset(self, *names: str) -> None:
        self._change(dict.fromkeys(names))

    def _change(self, variables: dict[str, str | None]) -> None:
        for name in variables:
            self.saved.setdefault(name, os.environ.get(name))
        self.stack.reconfigure(**variables)

    def restore(self) -> None:
        if self.saved:
            self.stack.reconfigure(**self.saved)


@pytest.fixture
def settings(stack: LocalStack) -> Iterator[StackSettings]:
    changes = StackSettings(stack)
    yield changes
    changes.restore()


@pytest.fixture
def paused(stack):
    """Disable some event source mappings for a while, as an operator would during an incident:
    `with paused("DeadLetterHandlerFunction"): ...`."""
    from contextlib import contextmanager

    @contextmanager
    def pause(*functions: str):
        pollers = [p for p in stack.pollers if p.mapping.function_name in functions]
        for poller in pollers:
            poller.request_stop()
        for poller in pollers:
            poller.join()
        try:
            yield
        finally:
            for poller in pollers:
                poller.start()

    return pause
