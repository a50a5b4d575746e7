"""BookStatusService: the only writer of statuses, one event per change, sequence numbers without gaps."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import select

from storywink.db.tables import Book, BookEvent, Page
from storywink.domain.enums import BookStatus, ModerationStatus
from storywink.services.status import (
    BookStatusService,
    IllegalTransition,
    StatusUpdate,
    StatusWriteOutsideService,
)
from storywink.wiring import container


def event_seqs(session, book_id) -> list[int]:
    session.expire_all()
    return list(session.execute(select(BookEvent.seq).where(BookEvent.book_id == book_id).order_by(BookEvent.seq)).scalars())


def test_a_status_change_writes_the_status_and_one_event_with_progress(session, book_with_photos):
    book_id = uuid.UUID(book_with_photos(2)["id"])
    event = BookStatusService(session).update_status(book_id, StatusUpdate("generation.started", book_status=BookStatus.GENERATING))
    session.commit()
    assert session.get(Book, book_id).status == BookStatus.GENERATING
    assert (event.seq, event.type) == (1, "generation.started")
    assert event.payload["progress"]["illustrations"]["total"] == 2 and event.payload["status"] == "GENERATING"


def test_an_illegal_transition_is_rejected_and_never_written(session, book_with_photos):
    book_id = uuid.UUID(book_with_photos(1)["id"])
    with pytest.raises(IllegalTransition) as rejected:
        BookStatusService(session).update_status(book_id, StatusUpdate("bogus", book_status=BookStatus.COMPLETED))
    session.rollback()
    assert rejected.value.details == {"from": "DRAFT", "to": "COMPLETED", "pageId": None}
    assert session.get(Book, book_id).status == BookStatus.DRAFT
    assert event_seqs(session, book_id) == []


def test_repeating_a_change_is_a_no_op_without_a_second_event(session, book_with_photos):
    book_id = uuid.UUID(book_with_photos(1)["id"])
    service = BookStatusService(session)
    service.update_status(book_id, StatusUpdate("generation.started", book_status=BookStatus.GENERATING))
    assert service.update_status(book_id, StatusUpdate("generation.started", book_status=BookStatus.GENERATING)) is None
    session.commit()
    assert event_seqs(session, book_id) == [1]


@pytest.mark.parametrize("column", ["book", "page"])
def test_writing_a_status_column_outside_the_service_is_refused(session, book_with_photos, column):
    book_id = uuid.UUID(book_with_photos(1)["id"])
    if column == "book":
        session.get(Book, book_id).status = BookStatus.COMPLETED
    else:
        session.execute(select(Page).where(Page.book_id == book_id)).scalar_one().moderation_status = ModerationStatus.OK
    with pytest.raises(StatusWriteOutsideService):
        session.commit()
    session.rollback()
    assert session.get(Book, book_id).status == BookStatus.DRAFT


def test_concurrent_page_completions_get_gapless_sequence_numbers(session, book_with_photos, advance):
    book = book_with_photos(5)
    book_id = uuid.UUID(book["id"])
    advance(session, book_id, BookStatus.GENERATING, BookStatus.ILLUSTRATING)
    start = threading.Barrier(len(book["pages"]))
    errors: list[Exception] = []

    def finish(page_id: str) -> None:
        try:
            with container().database.sessions() as worker_session:
                start.wait()
                BookStatusService(worker_session).update_status(
                    book_id, StatusUpdate("page.illustrated", page_id=uuid.UUID(page_id), page_status=ModerationStatus.OK)
                )
                worker_session.commit()
        except Exception as error:  # noqa: BLE001 - surfaced below
            errors.append(error)

    workers = [threading.Thread(target=finish, args=(page["id"],)) for page in book["pages"]]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    seqs = event_seqs(session, book_id)
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) == 2 + 5
    last = session.execute(select(BookEvent).where(BookEvent.book_id == book_id, BookEvent.seq == seqs[-1])).scalar_one()
    assert last.payload["progress"]["illustrations"]["completed"] == 5


def test_subscribers_hear_only_committed_events(session, book_with_photos):
    book_id = uuid.UUID(book_with_photos(1)["id"])
    heard: list[int] = []

    def publisher(book_event, progress):
        heard.append(book_event.seq)

    publishers = container().publishers
    publishers.append(publisher)
    try:
        BookStatusService(session).update_status(book_id, StatusUpdate("generation.started", book_status=BookStatus.GENERATING))
        session.rollback()
        assert heard == []
        BookStatusService(session).update_status(book_id, StatusUpdate("generation.started", book_status=BookStatus.GENERATING))
        session.commit()
        assert heard == [1]
    finally:
        publishers.remove(publisher)
