"""Quotas and rate limits, charged before an action takes effect; admins are exempt.

Each charge is committed at once, in its own short transaction: the counter row is not held locked while
the action runs, and an attempt stays counted when the action then fails.
"""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from storywink.api.deps import CallerDep, CurrentUser, SessionDep, SettingsDep
from storywink.auth.claims import Caller
from storywink.config import Settings
from storywink.db.tables import User
from storywink.domain.enums import UsageBucket
from storywink.services import idempotency, limits

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _charge(session: Session, user: User, settings: Settings, bucket: UsageBucket, amount: int = 1) -> None:
    limits.consume(session, user.id, limits.limits_for(user.plan, settings)[bucket], amount)
    session.commit()


def rate_limit_changes(
    request: Request, caller: CallerDep, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> None:
    """Every change (POST, PUT, PATCH, DELETE) counts against the caller's per-minute limit; reads do not."""
    if request.method in MUTATING_METHODS and not caller.is_admin:
        _charge(session, user, settings, UsageBucket.REQUESTS)


def generation_quota(
    request: Request, caller: CallerDep, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> None:
    """generate, illustrate and retry each count as one generation against the caller's daily quota."""
    if caller.is_admin:
        return
    key = idempotency.check_key(request.headers.get("Idempotency-Key"))
    # A repeat of a recorded start is answered from its record and starts nothing, so it costs nothing.
    # The route key is the one the generation routes record under.
    route = f"{request.method} {request.url.path}"
    if key is not None and idempotency.find(session, user.id, key, route) is not None:
        return
    _charge(session, user, settings, UsageBucket.GENERATIONS)


def charge_photos(caller: Caller, user: User, session: Session, settings: Settings, count: int) -> None:
    """Photos asked to upload count one each against the caller's daily quota."""
    if not caller.is_admin:
        _charge(session, user, settings, UsageBucket.PHOTOS, count)
