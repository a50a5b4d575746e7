"""One start of the pipeline, whoever asks for it: a parent now (the generate, illustrate and retry routes),
a scheduled start when its time comes, an operator's batch. Every start is charged, planned and budgeted
here, so admission, quotas and the provider ceiling are the same for all of them.

`begin` works in the caller's transaction and commits nothing: a start that is refused (409, 422, 429,
503) raises before the caller commits, so it costs nothing. The caller commits, then `launch`es.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from storywink.config import Settings
from storywink.db.tables import Book, User
from storywink.domain.enums import UsageBucket
from storywink.domain.errors import ServiceUnavailable
from storywink.services import limits, provider_budget
from storywink.services.generation import Generation, PlannedStart

Plan = Callable[[Session, Book, str], PlannedStart]


def begin(
    session: Session,
    settings: Settings,
    book: Book,
    owner: User,
    plan: Plan,
    correlation_id: str,
    *,
    exempt: bool,
) -> PlannedStart:
    """Charge one generation to the owner (unless ``exempt``: an admin's own start, an operator's batch), plan
    the start with ``plan`` (a Generation.plan_* method) and reserve its provider calls. The book is locked
    by the caller. A start supersedes a scheduled one: the schedule's fire will find nothing to start."""
    if not exempt:
        limits.consume(session, owner.id, limits.limits_for(owner.plan, settings)[UsageBucket.GENERATIONS])
    planned = plan(session, book, correlation_id)
    book.schedule_name = None
    book.scheduled_start_at = None
    # Last, so the day's counter row is locked for the shortest time (until the caller commits).
    provider_budget.reserve(
        session, provider_budget.planned_calls(planned, len(book.pages)), settings.provider_call_ceiling_per_day
    )
    return planned


def launch(session: Session, pipeline: Generation, book: Book, planned: PlannedStart) -> None:
    """StartExecution for a start the caller has committed. If it does not start, the book is recorded
    FAILED (committed) and ServiceUnavailable raised."""
    try:
        pipeline.launch(planned)
    except ServiceUnavailable:
        pipeline.record_launch_failure(session, book)
        session.commit()
        raise
