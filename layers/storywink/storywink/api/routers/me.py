"""/v1/me: the caller's own account: plan, limits and what is used of them."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import Field

from storywink.api.deps import CallerDep, CurrentUser, SessionDep, SettingsDep
from storywink.api.responses import OF_A_USER
from storywink.domain.enums import Plan, UsageBucket
from storywink.domain.progress import CamelModel
from storywink.services import limits

router = APIRouter(prefix="/v1/me", tags=["me"], responses=OF_A_USER)


class Allowance(CamelModel):
    limit: int = Field(ge=0)
    used: int = Field(ge=0)
    remaining: int = Field(ge=0)
    window_seconds: int = Field(description="60: per minute; 86400: per UTC day")
    resets_at: datetime


class UsageOut(CamelModel):
    plan: Plan
    exempt: bool = Field(description="Administrators are not limited.")
    requests: Allowance = Field(description="Changes (POST, PUT, PATCH, DELETE) this minute")
    reads: Allowance = Field(description="Reads (GET, an event stream's included) this minute")
    generations: Allowance = Field(description="generate, illustrate and retry today")
    photos: Allowance = Field(description="Photos asked to upload today")


def _allowance(usage: limits.Usage) -> Allowance:
    return Allowance(
        limit=usage.limit.limit,
        used=usage.used,
        remaining=max(0, usage.limit.limit - usage.used),
        window_seconds=usage.limit.window_seconds,
        resets_at=usage.window.end,
    )


@router.get("/usage", response_model=UsageOut, summary="My plan, its limits and what I have used of them")
def get_usage(caller: CallerDep, user: CurrentUser, session: SessionDep, settings: SettingsDep):
    used = {
        found.limit.bucket: _allowance(found)
        for found in limits.current_usage(session, user.id, list(limits.limits_for(user.plan, settings).values()))
    }
    return UsageOut(
        plan=user.plan,
        exempt=caller.is_admin,
        requests=used[UsageBucket.REQUESTS],
        reads=used[UsageBucket.READS],
        generations=used[UsageBucket.GENERATIONS],
        photos=used[UsageBucket.PHOTOS],
    )
