"""GET /v1/books/{id}/status: the seed's BookProgress computed from the database."""

from __future__ import annotations

import uuid

from storywink.db.tables import JobRun, Page
from storywink.domain.enums import BookStatus, JobStatus, JobStep, ModerationStatus
from storywink.services.status import BookStatusService


def test_a_draft_reports_nothing_started(client, auth, book_with_photos):
    book = book_with_photos(2)
    assert client.get(f"/v1/books/{book['id']}/status", headers=auth()).json() == {
        "status": "DRAFT",
        "storyGeneration": {"started": False, "completed": False, "error": None},
        "illustrations": {"total": 2, "completed": 0, "failed": 0, "inProgress": 0},
    }


def test_progress_counts_pages_and_jobs(client, auth, book_with_photos, session, advance):
    book = book_with_photos(4)
    book_id = uuid.UUID(book["id"])
    pages = session.query(Page).filter_by(book_id=book_id).order_by(Page.page_number).all()
    advance(
        session, book_id, BookStatus.GENERATING, BookStatus.ILLUSTRATING,
        pages={pages[0].id: ModerationStatus.OK, pages[1].id: ModerationStatus.FLAGGED},
    )
    session.add(JobRun(book_id=book_id, step=JobStep.STORY, status=JobStatus.FAILED, error_message="timeout"))
    session.add(JobRun(book_id=book_id, step=JobStep.STORY, status=JobStatus.SUCCEEDED))
    session.add(JobRun(book_id=book_id, page_id=pages[2].id, step=JobStep.ILLUSTRATION, status=JobStatus.RUNNING))
    BookStatusService(session).work_started(book_id, JobStep.ILLUSTRATION)  # as the page's claim does
    session.commit()
    progress = client.get(f"/v1/books/{book['id']}/status", headers=auth()).json()
    assert progress == {
        "status": "ILLUSTRATING",
        "storyGeneration": {"started": True, "completed": True, "error": None},
        "illustrations": {"total": 4, "completed": 1, "failed": 1, "inProgress": 1},
    }


def test_a_failed_story_reports_its_error(client, auth, book_with_photos, session, advance):
    book = book_with_photos(1)
    book_id = uuid.UUID(book["id"])
    advance(session, book_id, BookStatus.GENERATING, BookStatus.FAILED)
    session.add(JobRun(book_id=book_id, step=JobStep.STORY, status=JobStatus.FAILED, error_message="provider refused"))
    session.commit()
    story = client.get(f"/v1/books/{book['id']}/status", headers=auth()).json()["storyGeneration"]
    assert story == {"started": True, "completed": False, "error": "provider refused"}
