"""BookProgress computed from the database: the book's status, its story job, its pages and, while it
waits for capacity, its place in line."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storywink.db.tables import Book, JobRun, Page
from storywink.domain.enums import BookStatus, JobStatus, JobStep, ModerationStatus
from storywink.domain.progress import BookProgress, IllustrationProgress, StoryGenerationProgress
from storywink.services.admission import book_queue

# Finished books whose story was written (retention may have removed their job runs, never their pages).
STORY_WRITTEN = frozenset({BookStatus.COMPLETED, BookStatus.PARTIAL})


def compute_progress(session: Session, book: Book) -> BookProgress:
    """One statement (one round trip) for the story job and the pages; the queue's own when the book waits."""
    # Every subquery stands alone (correlate(None)): none refers to the pages the outer statement counts.
    story = select(JobRun.id).where(JobRun.book_id == book.id, JobRun.step == JobStep.STORY).correlate(None)
    latest = story.order_by(JobRun.started_at.desc()).limit(1)
    being_illustrated = select(func.count(func.distinct(JobRun.page_id))).where(
        JobRun.book_id == book.id,
        JobRun.step == JobStep.ILLUSTRATION,
        JobRun.status == JobStatus.RUNNING,
        JobRun.page_id.in_(
            select(Page.id).where(Page.book_id == book.id, Page.moderation_status == ModerationStatus.PENDING).correlate(None)
        ),
    ).correlate(None)
    row = session.execute(
        select(
            latest.with_only_columns(JobRun.status).scalar_subquery().label("latest_status"),
            latest.with_only_columns(JobRun.error_message).scalar_subquery().label("latest_error"),
            story.where(JobRun.status == JobStatus.SUCCEEDED).exists().label("completed"),
            func.count().label("total"),
            func.count().filter(Page.moderation_status == ModerationStatus.OK).label("illustrated"),
            func.count()
            .filter(Page.moderation_status.in_((ModerationStatus.FAILED, ModerationStatus.FLAGGED)))
            .label("failed"),
            being_illustrated.scalar_subquery().label("in_progress"),
        ).where(Page.book_id == book.id)
    ).one()
    story_completed = book.status in STORY_WRITTEN or bool(row.completed)
    story_error = None
    if row.latest_status in (JobStatus.FAILED, JobStatus.DEAD_LETTERED) and not story_completed:
        story_error = row.latest_error
    return BookProgress(
        status=book.status,
        story_generation=StoryGenerationProgress(
            started=row.latest_status is not None or story_completed, completed=story_completed, error=story_error
        ),
        illustrations=IllustrationProgress(
            total=row.total, completed=row.illustrated, failed=row.failed, in_progress=row.in_progress
        ),
        queue=book_queue(session, book),
        scheduled_start_at=book.scheduled_start_at,
    )
