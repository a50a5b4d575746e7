"""The local stack's book page in headless Chromium: a parent signs in, opens a book, presses Generate
and watches it fill in live over the WebSocket, with no polling and no reload."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

GENERATION_TIMEOUT_MS = 90_000
SCREENSHOT = Path("/tmp/storywink-live-page.png")
IMAGES_LOADED = "images => images.length > 0 && images.every(image => image.complete && image.naturalWidth > 0)"


def sign_in(page: Page, stack, user: str) -> None:
    page.goto(f"{stack.api_url}/app/")
    page.fill("#signin-user", user)
    page.click("#signin-as")
    expect(page.locator("#library-view")).to_be_visible()
    expect(page.locator("#signed-in-user")).to_have_text(user)


def test_a_book_generates_live_on_the_page_without_polling_or_reload(api, stack, sample_photos, page):
    book = api("parent").make_book(sample_photos[:3])
    book_path = f"/v1/books/{book['id']}"
    requests: list[tuple[str, str]] = []
    page.on("request", lambda request: requests.append((request.method, urlsplit(request.url).path)))
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)

    sign_in(page, stack, "parent")
    load_id = page.evaluate("window.storywinkLoadId")
    page.locator(f'.book-card[data-book-id="{book["id"]}"] button').click()
    expect(page.locator("#book-title")).to_have_text("Our Day")
    expect(page.locator("#book-status")).to_have_text("DRAFT")
    expect(page.locator("#live-channel")).to_have_attribute("data-channel", "websocket")
    expect(page.locator("#illustrations-total")).to_have_text("3")
    page.click("#generate")

    expect(page.locator("#book-status")).to_have_text("COMPLETED", timeout=GENERATION_TIMEOUT_MS)
    expect(page.locator("#illustrations-completed")).to_have_text("3")
    expect(page.locator("#illustrations-failed")).to_have_text("0")
    expect(page.locator("#illustrations-in-progress")).to_have_text("0")
    expect(page.locator("#story-state")).to_have_text("written")
    thumbs = page.locator(".page-thumb img")
    expect(thumbs).to_have_count(3)
    illustration = re.compile(rf"/books/{book['id']}/illustrations/[0-9a-f-]+\.png\?")
    for index in range(3):
        expect(thumbs.nth(index)).to_have_attribute("src", illustration, timeout=GENERATION_TIMEOUT_MS)
    page.wait_for_function(
        f"() => ({IMAGES_LOADED})([...document.querySelectorAll('.page-thumb img')])", timeout=GENERATION_TIMEOUT_MS
    )
    expect(page.locator("#pdf-link")).to_be_visible(timeout=GENERATION_TIMEOUT_MS)
    expect(page.locator("#pdf-link")).to_have_attribute("href", re.compile(rf"/books/{book['id']}/book\.pdf\?"))
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    assert page.evaluate("window.storywinkLoadId") == load_id, "the page was reloaded"
    assert navigations == [f"{stack.api_url}/app/"], navigations
    assert [urlsplit(url).netloc for url in sockets] == [urlsplit(stack.websocket_url).netloc]
    assert page.locator("#live-channel").get_attribute("data-channel") == "websocket"
    assert requests.count(("GET", f"{book_path}/status")) <= 1, "the page polled the status"
    assert ("GET", f"{book_path}/status/stream") not in requests, "the WebSocket worked; no fallback was needed"
    # The book is fetched on open, on the snapshot and after page events only, never on a timer.
    live_events = page.locator("#event-log li").count()
    assert requests.count(("GET", book_path)) <= live_events + 2


def test_the_library_lists_the_book_with_its_cover_thumbnail(api, stack, sample_photos, page):
    title = "Zoë & <b>Milo</b> in Space"
    book = api("parent").make_book(sample_photos[:2], title=title)

    sign_in(page, stack, "parent")
    card = page.locator(f'.book-card[data-book-id="{book["id"]}"]')
    expect(card.locator(".book-title")).to_have_text(title)  # shown as text, never as markup
    expect(card.locator("b")).to_have_count(0)
    expect(card.locator(".badge")).to_have_text("DRAFT")
    expect(card.locator(".book-meta")).to_contain_text("2 pages")
    cover = card.locator("img.cover-thumb")
    expect(cover).to_have_attribute(
        "src", re.compile(rf"/books/{book['id']}/thumbnails/{book['coverAssetId']}\.jpg\?")
    )
    cover.scroll_into_view_if_needed()
    page.wait_for_function(f"image => ({IMAGES_LOADED})([image])", arg=cover.element_handle())


def test_a_book_made_on_the_page_uploads_the_photos_from_the_computer(api, stack, sample_photos, page):
    sign_in(page, stack, "parent")
    page.fill("#new-book-title", "Milo Goes to Space")
    page.fill("#new-book-child", "Milo")
    page.select_option("#new-book-style", "cartoon")
    page.set_input_files("#new-book-photos", [str(p) for p in sample_photos[:2]])
    page.click("#create-book")

    expect(page.locator("#book-title")).to_have_text("Milo Goes to Space")
    expect(page.locator(".page-thumb img[data-kind=photo]")).to_have_count(2)
    expect(page.locator("#generate")).to_be_enabled()
    [book] = api("parent")("GET", "/v1/books")["items"]
    assert (book["title"], book["pageLength"]) == ("Milo Goes to Space", 2)


def test_progress_arrives_over_the_event_stream_when_the_websocket_cannot_connect(api, stack, sample_photos, page):
    book = api("parent").make_book(sample_photos[:1])
    unreachable = {"apiUrl": stack.api_url, "websocketUrl": "ws://127.0.0.1:9"}
    page.route("**/local/config.json", lambda route: route.fulfill(json=unreachable))
    requests: list[str] = []
    page.on("request", lambda request: requests.append(urlsplit(request.url).path))

    sign_in(page, stack, "parent")
    page.locator(f'.book-card[data-book-id="{book["id"]}"] button').click()
    expect(page.locator("#live-channel")).to_have_attribute("data-channel", "sse")
    page.click("#generate")

    expect(page.locator("#book-status")).to_have_text("COMPLETED", timeout=GENERATION_TIMEOUT_MS)
    expect(page.locator("#illustrations-completed")).to_have_text("1")
    expect(page.locator("#pdf-link")).to_be_visible(timeout=GENERATION_TIMEOUT_MS)
    assert f"/v1/books/{book['id']}/status/stream" in requests
    assert f"/v1/books/{book['id']}/status" not in requests


def test_the_page_reconnects_after_its_socket_drops_and_shows_every_event_exactly_once(
    api, stack, sample_photos, page, paused
):
    from storywink.wiring import container

    live = container().require_live()
    book = api("parent").make_book(sample_photos[:3])
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    sign_in(page, stack, "parent")
    page.locator(f'.book-card[data-book-id="{book["id"]}"] button').click()
    expect(page.locator("#live-channel")).to_have_attribute("data-channel", "websocket")

    with paused("IllustrationWorkerFunction"):
        page.click("#generate")
        expect(page.locator("#book-status")).to_have_text("ILLUSTRATING", timeout=GENERATION_TIMEOUT_MS)
        # API Gateway closes the connection (its idle or two-hour limit), and the page cannot get back in
        # until the book is done: every illustration happens while it is away.
        stack.websocket_gateway.hold_connects()
        for subscription in live.store.subscribers(book["id"]):
            live.gateway.client.delete_connection(ConnectionId=subscription.connection_id)
        expect(page.locator("#live-channel")).to_have_attribute("data-channel", "offline")
    try:
        api("parent").wait_for(book["id"], {"COMPLETED"})
    finally:
        stack.websocket_gateway.release_connects()

    expect(page.locator("#book-status")).to_have_text("COMPLETED", timeout=GENERATION_TIMEOUT_MS)
    expect(page.locator("#live-channel")).to_have_attribute("data-channel", "websocket")
    expect(page.locator("#illustrations-completed")).to_have_text("3")
    expect(page.locator("#pdf-link")).to_be_visible(timeout=GENERATION_TIMEOUT_MS)
    logged = [int(text.lstrip("#")) for text in page.locator("#event-log .seq").all_text_contents()]
    assert sorted(logged) == list(range(1, max(logged) + 1)), logged  # from the first event, none missed or twice
    assert page.locator("#event-log li", has_text="book.finished").count() == 1
    assert len(sockets) >= 2, sockets


def test_the_page_pings_its_socket_and_hears_the_pongs(api, stack, sample_photos, page):
    book = api("parent").make_book(sample_photos[:1])
    often = {"apiUrl": stack.api_url, "websocketUrl": stack.websocket_url, "pingSeconds": 0.2}
    page.route("**/local/config.json", lambda route: route.fulfill(json=often))
    sent: list[str] = []
    received: list[str] = []

    def watch(socket) -> None:
        socket.on("framesent", lambda payload: sent.append(payload))
        socket.on("framereceived", lambda payload: received.append(payload))

    page.on("websocket", watch)
    sign_in(page, stack, "parent")
    page.locator(f'.book-card[data-book-id="{book["id"]}"] button').click()
    expect(page.locator("#live-channel")).to_have_attribute("data-channel", "websocket")
    for _ in range(100):  # events reach these lists while Playwright waits
        if sum('"pong"' in frame for frame in received) >= 3:
            break
        page.wait_for_timeout(100)

    assert sum('"ping"' in frame for frame in sent) >= 3
    assert sum('"pong"' in frame for frame in received) >= 3
    expect(page.locator("#live-channel")).to_have_attribute("data-channel", "websocket")  # pongs keep it open
