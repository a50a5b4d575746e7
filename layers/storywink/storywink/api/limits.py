"""Quotas and rate limits, charged before an action takes effect; admins are exempt.

Rate-limit and photo charges are committed at once, as a named step of the route they guard (the counter
row is not held while the action runs; an attempt stays counted if the action then fails). A generation is
charged inside the start's own transaction instead (storywink.services.starts), so only starts that happen
cost one.
"""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from storywink.api.deps import CallerDep, CurrentUser, SessionDep, SettingsDep
from storywink.auth.claims import Caller
from storywink.config import Settings
from storywink.db.tables import User
from storywink.domain.enums import UsageBucket
from storywink.services import limits

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _charge(session: Session, user: User, settings: Settings, bucket: UsageBucket, amount: int = 1) -> None:
    limits.consume(session, user.id, limits.limits_for(user.plan, settings)[bucket], amount)
    session.commit()  # the charge stands whatever the action does next


def rate_limit(request: Request, caller: CallerDep, user: CurrentUser, session: SessionDep, settings: SettingsDep) -> None:
    """Every request counts against one of the caller's per-minute limits: a change (POST, PUT, PATCH,
    DELETE) against the changes', a read (a GET, an event stream's included) against the reads'."""
    if not caller.is_admin:
        bucket = UsageBucket.REQUESTS if request.method in MUTATING_METHODS else UsageBucket.READS
        _charge(session, user, settings, bucket)


def charge_photos(caller: Caller, user: User, session: Session, settings: Settings, count: int) -> None:
    """Photos asked to upload count one each against the caller's daily quota."""
    if not caller.is_admin:
        _charge(session, user, settings, UsageBucket.PHOTOS, count)
