"""GET /v1/books/{id}/status/stream: Server-Sent Events, resumable with Last-Event-ID."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from sqlalchemy import select

from storywink.db.tables import BookEvent

FINAL = {"COMPLETED", "PARTIAL", "FAILED"}


class EventReader:
    """Parses SSE messages (id, event, data) from one streaming response."""

    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.iter_lines()

    def read(self, limit: int | None = None) -> list[dict]:
        """Messages until the stream ends, or until ``limit`` have arrived."""
        messages, current = [], {}
        for line in self.lines:
            if line == "":
                if "data" in current:
                    messages.append(current)
                    if limit is not None and len(messages) >= limit:
                        break
                current = {}
            elif line.startswith((":", "retry:")):
                continue
            else:
                field, _, value = line.partition(": ")
                current[field] = int(value) if field == "id" else json.loads(value) if field == "data" else value
        return messages


def read_events(response: httpx.Response) -> list[dict]:
    return EventReader(response).read()


def stream(stack, token: str, book_id: str, last_event_id: int | None = None):
    headers = {"Authorization": f"Bearer {token}"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    return httpx.stream("GET", f"{stack.api_url}/v1/books/{book_id}/status/stream", headers=headers, timeout=60)


def test_stream_sends_a_snapshot_then_every_event_until_the_book_is_final(api, stack, sample_photos, session):
    parent = api("parent")
    book = parent.make_book(sample_photos[:2])
    token = stack.mint_token("parent")
    with stream(stack, token, book["id"]) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = EventReader(response)
        snapshot = reader.read(limit=1)[0]
        assert snapshot["event"] == "snapshot" and snapshot["data"]["progress"]["status"] == "DRAFT"
        parent("POST", f"/v1/books/{book['id']}/generate", 202)
        events = reader.read()  # ends by itself at the final status
    seqs = [message["id"] for message in events]
    assert seqs == list(range(snapshot["id"] + 1, snapshot["id"] + 1 + len(events)))
    assert events[-1]["data"]["status"] == "COMPLETED"
    assert all({"status", "storyGeneration", "illustrations"} <= set(m["data"]["progress"]) for m in events)
    stored = session.execute(select(BookEvent.seq).where(BookEvent.book_id == book["id"]).order_by(BookEvent.seq))
    assert [seq for (seq,) in stored] == list(range(1, seqs[-1] + 1))


def test_resuming_with_last_event_id_yields_exactly_the_missing_events(api, stack, sample_photos):
    parent = api("parent")
    book = parent.make_book(sample_photos[:3])
    token = stack.mint_token("parent")
    with stream(stack, token, book["id"]) as response:
        reader = EventReader(response)
        snapshot = reader.read(limit=1)[0]
        parent("POST", f"/v1/books/{book['id']}/generate", 202)
        first_part = reader.read(limit=3)  # then the client drops mid-generation
    last_seen = first_part[-1]["id"]
    with stream(stack, token, book["id"], last_event_id=last_seen) as response:
        rest = read_events(response)
    seqs = [m["id"] for m in first_part + rest]
    assert rest[0]["id"] == last_seen + 1
    assert seqs == list(range(snapshot["id"] + 1, snapshot["id"] + 1 + len(seqs)))  # no gap, no duplicate
    assert rest[-1]["data"]["status"] == "COMPLETED"


def test_a_finished_book_streams_its_snapshot_and_ends(api, stack, sample_photos):
    parent = api("parent")
    book = parent.make_book(sample_photos[:1])
    parent("POST", f"/v1/books/{book['id']}/generate", 202)
    parent.wait_for(book["id"], FINAL)
    with stream(stack, stack.mint_token("parent"), book["id"]) as response:
        messages = read_events(response)
    assert [m["event"] for m in messages] == ["snapshot"]
    assert messages[0]["data"]["status"] == "COMPLETED"


def test_stream_of_another_users_book_is_not_found(api, stack, sample_photos):
    book = api("parent").make_book(sample_photos[:1])
    with stream(stack, stack.mint_token("stranger"), book["id"]) as response:
        response.read()
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "BOOK_NOT_FOUND"


# A superscript two is a digit to str.isdigit but not to int(); 19 nines are past the BIGINT sequence numbers.
@pytest.mark.parametrize("last_event_id", [b"abc", "²".encode("latin-1"), b"9" * 19])
def test_a_malformed_last_event_id_is_rejected(api, stack, sample_photos, last_event_id):
    book = api("parent").make_book(sample_photos[:1])
    response = httpx.get(
        f"{stack.api_url}/v1/books/{book['id']}/status/stream",
        headers={"Authorization": f"Bearer {stack.mint_token('parent')}", "Last-Event-ID": last_event_id},
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == "INVALID_LAST_EVENT_ID"


def test_one_user_may_hold_only_so_many_streams_open_and_a_closed_one_frees_its_slot(api, stack, sample_photos, settings):
    # A closed client is noticed at the stream's next write: heartbeat often.
    settings.set(SSE_MAX_STREAMS_PER_USER="2", SSE_HEARTBEAT_SECONDS="0.2")
    parent = api("parent")
    book = parent.make_book(sample_photos[:1])
    token = stack.mint_token("parent")
    with stream(stack, token, book["id"]) as first, stream(stack, token, book["id"]) as second:
        # Keep the readers: dropping one mid-stream closes its connection, and so its stream.
        readers = [EventReader(first), EventReader(second)]
        assert [reader.read(limit=1)[0]["event"] for reader in readers] == ["snapshot", "snapshot"]
        with stream(stack, token, book["id"]) as third:
            assert third.status_code == 429
            refused = json.loads(third.read())
        elsewhere = api("someone-else").make_book(sample_photos[:1])
        with stream(stack, stack.mint_token("someone-else"), elsewhere["id"]) as other:
            assert other.status_code == 200  # the cap is per user
    assert int(third.headers["Retry-After"]) >= 1
    assert refused["error"]["code"] == "TOO_MANY_STREAMS"
    assert refused["error"]["details"] == {"limit": 2, "open": 2}

    deadline = time.monotonic() + 30
    while True:  # both streams ended with their clients: their slots come back
        with stream(stack, token, book["id"]) as again:
            if again.status_code == 200:
                break
        assert time.monotonic() < deadline, "closed streams kept their slots"
        time.sleep(0.2)
