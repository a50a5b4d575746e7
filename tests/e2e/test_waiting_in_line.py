"""Admission on the local stack: with the story workers paused (no capacity), started books wait in
line and the parent sees their place; once the workers run again, each book leaves its line as its
first task is claimed."""

from __future__ import annotations

from sqlalchemy import select

from storywink.db.tables import BookEvent

FINAL = {"COMPLETED", "PARTIAL", "FAILED"}


def test_the_queue_position_appears_while_a_book_waits_and_disappears_when_it_starts(
    api, stack, paused, sample_photos, session
):
    parent, grandma = api("parent"), api("grandma")
    grandma.http.headers["Authorization"] = f"Bearer {stack.mint_token('grandma', plan='premium')}"
    first, second = (parent.make_book(sample_photos[:1], autoIllustrate=True) for _ in range(2))
    gift = grandma.make_book(sample_photos[:1], autoIllustrate=True)

    with paused("StoryWorkerFunction"):
        for book in (first, second):
            parent("POST", f"/v1/books/{book['id']}/generate", 202)
        grandma("POST", f"/v1/books/{gift['id']}/generate", 202)
        waiting = [parent("GET", f"/v1/books/{book['id']}/status") for book in (first, second)]
        premium = grandma("GET", f"/v1/books/{gift['id']}/status")

        assert [progress["status"] for progress in waiting] == ["GENERATING", "GENERATING"]
        assert [progress["queue"]["position"] for progress in waiting] == [1, 2]
        assert 0 < waiting[0]["queue"]["estimatedStartSeconds"] <= waiting[1]["queue"]["estimatedStartSeconds"]
        assert premium["queue"]["position"] == 1  # its own line: not behind the two free books

    for user, book in ((parent, first), (parent, second), (grandma, gift)):
        finished = user.wait_for(book["id"], FINAL)
        assert finished["status"] == "COMPLETED" and "queue" not in finished
        logged = {event.type: event for event in reversed(book_events(session, book["id"]))}  # each type's first
        waited, left = logged["generation.started"], logged["work.started"]  # queued; the story's claim
        assert waited.seq < left.seq < logged["story.completed"].seq
        assert "queue" in waited.payload["progress"] and "queue" not in left.payload["progress"]


def book_events(session, book_id: str) -> list[BookEvent]:
    session.expire_all()
    return list(session.scalars(select(BookEvent).where(BookEvent.book_id == book_id).order_by(BookEvent.seq)))
