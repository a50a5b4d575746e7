"""Per-user quotas and rate limits: fixed-window counters in PostgreSQL.

Lambda containers share nothing, so the database holds the counts. One upsert both counts and checks,
and it only adds while the total stays within the limit: concurrent requests can never pass the limit
together, and a refused attempt counts nowhere (not in this window, not in the next).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from storywink.config import Settings
from storywink.db.tables import UsageCounter
from storywink.domain.enums import Plan, UsageBucket
from storywink.domain.errors import RateLimited

MINUTE = 60
DAY = 24 * 3600
# Windows older than this are deleted when a user opens a new one: no cron job, and a user's rows stay few.
RETENTION = timedelta(days=2)


@dataclass(frozen=True)
class Limit:
    bucket: UsageBucket
    plan: Plan
    limit: int
    window_seconds: int


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Usage:
    limit: Limit
    used: int
    window: Window


def limits_for(plan: Plan, settings: Settings) -> dict[UsageBucket, Limit]:
    premium = plan == Plan.PREMIUM
    return {
        UsageBucket.REQUESTS: Limit(
            UsageBucket.REQUESTS,
            plan,
            settings.rate_limit_premium_per_minute if premium else settings.rate_limit_free_per_minute,
            MINUTE,
        ),
        UsageBucket.READS: Limit(
            UsageBucket.READS,
            plan,
            settings.read_limit_premium_per_minute if premium else settings.read_limit_free_per_minute,
            MINUTE,
        ),
        UsageBucket.GENERATIONS: Limit(
            UsageBucket.GENERATIONS,
            plan,
            settings.generation_quota_premium_per_day if premium else settings.generation_quota_free_per_day,
            DAY,
        ),
        UsageBucket.PHOTOS: Limit(
            UsageBucket.PHOTOS,
            plan,
            settings.photo_quota_premium_per_day if premium else settings.photo_quota_free_per_day,
            DAY,
        ),
    }


def utcnow() -> datetime:
    return datetime.now(UTC)


def window_at(window_seconds: int, now: datetime) -> Window:
    """The fixed window holding ``now``, aligned to the epoch: minutes on the minute, days at 00:00 UTC."""
    start = datetime.fromtimestamp(now.timestamp() // window_seconds * window_seconds, UTC)
    return Window(start, start + timedelta(seconds=window_seconds))


def consume(session: Session, user_id: str, limit: Limit, amount: int = 1, now: datetime | None = None) -> Usage:
    """Count ``amount`` against the limit in the current window, or raise RateLimited and count nothing.

    The caller commits; until then the counter row stays locked, so commit soon.
    """
    now = now or utcnow()
    window = window_at(limit.window_seconds, now)
    used = None
    if amount <= limit.limit:
        statement = (
            insert(UsageCounter)
            .values(user_id=user_id, bucket=limit.bucket.value, window_start=window.start, count=amount)
            .on_conflict_do_update(
                index_elements=[UsageCounter.user_id, UsageCounter.bucket, UsageCounter.window_start],
                set_={"count": UsageCounter.count + amount},
                where=UsageCounter.count + amount <= limit.limit,
            )
            .returning(UsageCounter.count)
        )
        used = session.execute(statement).scalar_one_or_none()
    if used is None:
        raise _refusal(limit, _used_in(session, user_id, limit, window), amount, window, now)
    if used == amount:  # this request opened the window (an update always ends above amount)
        session.execute(
            delete(UsageCounter).where(UsageCounter.user_id == user_id, UsageCounter.window_start < now - RETENTION)
        )
    return Usage(limit, used, window)


def current_usage(session: Session, user_id: str, limits: list[Limit], now: datetime | None = None) -> list[Usage]:
    """What the user has used of each limit in its current window."""
    now = now or utcnow()
    windows = [window_at(limit.window_seconds, now) for limit in limits]
    rows = session.execute(
        select(UsageCounter.bucket, UsageCounter.window_start, UsageCounter.count).where(
            UsageCounter.user_id == user_id,
            or_(
                *(
                    and_(UsageCounter.bucket == limit.bucket.value, UsageCounter.window_start == window.start)
                    for limit, window in zip(limits, windows, strict=True)
                )
            ),
        )
    ).all()
    counts = {(bucket, start): count for bucket, start, count in rows}
    return [
        Usage(limit, counts.get((limit.bucket.value, window.start), 0), window)
        for limit, window in zip(limits, windows, strict=True)
    ]


def _used_in(session: Session, user_id: str, limit: Limit, window: Window) -> int:
    return session.scalar(
        select(UsageCounter.count).where(
            UsageCounter.user_id == user_id,
            UsageCounter.bucket == limit.bucket.value,
            UsageCounter.window_start == window.start,
        )
    ) or 0


def _refusal(limit: Limit, used: int, amount: int, window: Window, now: datetime) -> RateLimited:
    retry_after = max(1, math.ceil((window.end - now).total_seconds()))
    resets_at = window.end.strftime("%Y-%m-%dT%H:%M:%SZ")
    details = {"limit": limit.limit, "used": used, "resetsAt": resets_at, "plan": limit.plan.value}
    plan = f"the {limit.plan.value} plan"
    if limit.bucket in (UsageBucket.REQUESTS, UsageBucket.READS):
        what = "changes" if limit.bucket == UsageBucket.REQUESTS else "reads"
        return RateLimited(
            f"Too many {what}: {plan} allows {limit.limit} a minute. Try again in {retry_after} s.",
            retry_after,
            code="RATE_LIMITED",
            details=details,
        )
    resets = f"It resets at {window.end:%H:%M} UTC ({resets_at})."
    if limit.bucket == UsageBucket.GENERATIONS:
        message = f"Daily generation quota reached: {plan} allows {limit.limit} a day. {resets}"
    else:
        details["requested"] = amount
        message = (
            f"Not enough photo quota left today: {plan} allows {limit.limit} a day (used: {used}, asked for: {amount})."
            f" {resets}"
        )
    return RateLimited(message, retry_after, code="QUOTA_EXCEEDED", details=details)
