"""Who is calling: the verified claims the API acts on."""

from __future__ import annotations

from dataclasses import dataclass

from storywink.domain.enums import Plan


@dataclass(frozen=True)
class Caller:
    user_id: str
    email: str | None
    plan: Plan
    is_admin: bool
