"""The global daily ceiling on AI provider calls (PROVIDER_CALL_CEILING_PER_DAY; 0: none).

Open sign-up and per-user quotas leave spend unbounded in total: many accounts, each within its own
quota, could still run up any bill. So every start reserves the provider calls it plans (the story, one
per page it illustrates) against one counter per UTC day, in the start's own transaction: a start that
does not happen reserves nothing, and one upsert both counts and checks, so concurrent starts can never
pass the ceiling together. A start that would is refused (503 PROVIDER_BUDGET_EXHAUSTED, Retry-After
until midnight UTC). Retries of a failed call are not counted again: the ceiling bounds what parents
ask for, and the pipeline's retry limits bound the rest.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from storywink.db.tables import ProviderCallDay
from storywink.domain.errors import ProviderBudgetExhausted
from storywink.observability import metrics
from storywink.services.generation import PlannedStart


def utcnow() -> datetime:
    return datetime.now(UTC)


def planned_calls(planned: PlannedStart, pages: int) -> int:
    """The provider calls a start plans: the story and, illustrating, each of the book's ``pages``; or the
    pages it illustrates or redoes."""
    if planned.mode == "FULL":
        return 1 + (pages if planned.input.auto_illustrate else 0)
    return len(planned.input.page_ids)


def reserve(session: Session, calls: int, ceiling: int, now: datetime | None = None) -> int:
    """Count ``calls`` against today's ceiling and return today's total, or raise ProviderBudgetExhausted
    and count nothing. The caller commits (until then the day's row stays locked: commit soon)."""
    now = now or utcnow()
    today = now.date()
    statement = insert(ProviderCallDay).values(day=today, calls=calls)
    statement = statement.on_conflict_do_update(
        index_elements=[ProviderCallDay.day],
        set_={"calls": ProviderCallDay.calls + calls},
        where=(ProviderCallDay.calls + calls <= ceiling) if ceiling else None,
    ).returning(ProviderCallDay.calls)
    total = None if ceiling and calls > ceiling else session.execute(statement).scalar_one_or_none()
    if total is None:
        midnight = datetime.combine(today + timedelta(days=1), datetime.min.time(), UTC)
        retry_after = max(1, math.ceil((midnight - now).total_seconds()))
        metrics.add_metric(name="ProviderBudgetRefusals", unit="Count", value=1)
        raise ProviderBudgetExhausted(
            "The service has reached today's limit on new books; please try again after midnight UTC.",
            retry_after,
            details={"resetsAt": midnight.strftime("%Y-%m-%dT%H:%M:%SZ")},
        )
    metrics.add_metric(name="ProviderCallsPlanned", unit="Count", value=calls)
    metrics.add_metric(name="ProviderCallsToday", unit="Count", value=total)
    return total
