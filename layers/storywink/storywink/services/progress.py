"""BookProgress computed from the database: the book's status, its story job, its pages and, while it
waits for capacity, its place in line."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storywink.db.tables import Book, JobRun, Page
from storywink.domain.enums import BookStatus, JobStatus, JobStep, ModerationStatus
from storywink.domain.progress import BookProgress, IllustrationProgress, StoryGenerationProgress
from storywink.services.admission import book_queue

# Finished books whose story was written (retention may have removed their job runs, never their pages).
STORY_WRITTEN = frozenset({BookStatus.COMPLETED, BookStatus.PARTIAL})


def compute_progress(session: Session, book: Book) -> BookProgress:
    story_runs = session.execute(
        select(JobRun.status, JobRun.error_message)
        .where(JobRun.book_id == book.id, JobRun.step == JobStep.STORY)
        .order_by(JobRun.started_at.desc())
    ).all()
    story_completed = book.status in STORY_WRITTEN or any(status == JobStatus.SUCCEEDED for status, _ in story_runs)
    story_error = None
    if story_runs and not story_completed and story_runs[0][0] in (JobStatus.FAILED, JobStatus.DEAD_LETTERED):
        story_error = story_runs[0][1]

    counts = dict(
        session.execute(
            select(Page.moderation_status, func.count()).where(Page.book_id == book.id).group_by(Page.moderation_status)
        ).all()
    )
    return BookProgress(
        status=book.status,
        story_generation=StoryGenerationProgress(
            started=bool(story_runs) or story_completed, completed=story_completed, error=story_error
        ),
        illustrations=IllustrationProgress(
            total=sum(counts.values()),
            completed=counts.get(ModerationStatus.OK, 0),
            failed=counts.get(ModerationStatus.FAILED, 0) + counts.get(ModerationStatus.FLAGGED, 0),
            in_progress=_pages_being_illustrated(session, book.id),
        ),
        queue=book_queue(session, book),
        scheduled_start_at=book.scheduled_start_at,
    )


def _pages_being_illustrated(session: Session, book_id: UUID) -> int:
    return session.execute(
        select(func.count(func.distinct(JobRun.page_id))).where(
            JobRun.book_id == book_id,
            JobRun.step == JobStep.ILLUSTRATION,
            JobRun.status == JobStatus.RUNNING,
            JobRun.page_id.in_(
                select(Page.id).where(Page.book_id == book_id, Page.moderation_status == ModerationStatus.PENDING)
            ),
        )
    ).scalar_one()
