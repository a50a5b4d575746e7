"""Users exist from their first authenticated request on."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from storywink.auth.claims import Caller
from storywink.db.tables import User


def ensure_user(session: Session, caller: Caller) -> User:
    """Create the caller's row on first sight; keep email and plan in step with the identity provider."""
    statement = (
        insert(User)
        .values(id=caller.user_id, email=caller.email, plan=caller.plan)
        .on_conflict_do_update(
            index_elements=[User.id],
            set_={"email": caller.email, "plan": caller.plan},
            where=(User.email.is_distinct_from(caller.email)) | (User.plan != caller.plan),
        )
    )
    session.execute(statement)
    return session.execute(select(User).where(User.id == caller.user_id)).scalar_one()
