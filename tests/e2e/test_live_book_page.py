"""The local stack's book page in headless Chromium: a parent signs in, opens a book, presses Generate
and watches it fill in live over the WebSocket, with no polling and no reload. And the library keeps the
covers it already has: the API names each object by the same URL all through its window and the object
says how long it keeps (Cache-Control, which S3, and moto with it, send back with every GET)."""

from __future__ import annotations

import re
import time
from collections import Counter
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
        "src", re.compile(rf"/books/{book['id']}/thumbnails/{book['coverAssetId']}\.webp\?")
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


# ---------------------------------------------------------------- the browser cache

HEURISTIC_FRESHNESS_MS = 2500
COVERS_LOADED = f"() => ({IMAGES_LOADED})([...document.querySelectorAll('img.cover-thumb')])"


def clear_of_a_window_end(seconds: float = 60) -> None:
    """A new window would rightly give new URLs: start the test well before the current one ends."""
    from storywink.wiring import container

    left = container().media.cache_seconds()
    if left < seconds:
        time.sleep(left + 1)


def test_the_library_fetches_each_thumbnail_once_across_two_reloads(api, stack, sample_photos, page):
    books = [api("parent").make_book([photo], title=f"Book {index}") for index, photo in enumerate(sample_photos[:3])]
    clear_of_a_window_end()
    # Chromium's own account of every request: whether the network or its cache answered it.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    urls: dict[str, str] = {}
    from_cache: set[str] = set()
    over_network: Counter[str] = Counter()
    shown: Counter[str] = Counter()

    def sent(event) -> None:
        urls[event["requestId"]] = event["request"]["url"]

    def answered(event) -> None:
        url = event["response"]["url"]
        if "/thumbnails/" not in urlsplit(url).path:
            return
        shown[url] += 1
        served_by_cache = event["requestId"] in from_cache or event["response"].get("fromDiskCache")
        if not served_by_cache:  # a fetch or a revalidation (304): either way the network was asked
            over_network[url] += 1

    cdp.on("Network.requestWillBeSent", sent)
    cdp.on("Network.requestServedFromCache", lambda event: from_cache.add(event["requestId"]))
    cdp.on("Network.responseReceived", answered)

    sign_in(page, stack, "parent")
    covers = page.locator("img.cover-thumb")
    expect(covers).to_have_count(3)
    page.wait_for_function(COVERS_LOADED)
    first_urls = sorted(covers.evaluate_all("images => images.map(image => image.src)"))
    for _ in range(2):
        # Past any heuristic freshness (a tenth of the objects' age when fetched, here a few seconds): only
        # the objects' own Cache-Control keeps them fresh now.
        page.wait_for_timeout(HEURISTIC_FRESHNESS_MS)
        page.reload()
        expect(page.locator("#library-view")).to_be_visible()
        expect(covers).to_have_count(3)
        page.wait_for_function(COVERS_LOADED)
        # The same object, the same URL: the library names each cover exactly as before.
        assert sorted(covers.evaluate_all("images => images.map(image => image.src)")) == first_urls

    assert {re.search(r"/books/([0-9a-f-]+)/thumbnails/", url)[1] for url in first_urls} == {b["id"] for b in books}
    assert all(urlsplit(url).path.endswith(".webp") for url in first_urls)
    assert set(over_network) == set(first_urls)
    assert all(count == 1 for count in over_network.values()), over_network  # once, then from the cache
    assert all(shown[url] >= 3 for url in first_urls), shown  # and shown on each of the three loads
