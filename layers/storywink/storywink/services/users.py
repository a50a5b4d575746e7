"""Users exist from their first authenticated request on, until their account is deleted."""

from __future__ import annotations

from sqlalchemy import String, exists, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from storywink.auth.claims import Caller
from storywink.db.tables import AccountDeletion, User
from storywink.domain.errors import Gone


def account_deleted() -> Gone:
    return Gone("This account has been deleted.", code="ACCOUNT_DELETED")


def ensure_user(session: Session, caller: Caller) -> User:
    """Create the caller's row on first sight; keep email and plan in step with the identity provider.

    An account whose deletion was asked for (or has finished: its tombstone) is never created again nor
    served: its still-valid tokens are answered 410 `ACCOUNT_DELETED`. A known user whose email and plan
    are unchanged (nearly every request) costs one read; otherwise one statement writes, one reads.
    """
    deleting = exists().where(AccountDeletion.user_id == caller.user_id)
    known = session.execute(select(User, deleting.label("deleting")).where(User.id == caller.user_id)).one_or_none()
    if known is not None and known.deleting:
        raise account_deleted()
    if known is not None and known.User.email == caller.email and known.User.plan == caller.plan:
        return known.User
    row = select(
        literal(caller.user_id, String), literal(caller.email, String), literal(caller.plan, User.__table__.c.plan.type)
    ).where(~deleting)
    statement = (
        insert(User)
        .from_select([User.id, User.email, User.plan], row)
        .on_conflict_do_update(
            index_elements=[User.id],
            set_={"email": caller.email, "plan": caller.plan},
            where=(User.email.is_distinct_from(caller.email)) | (User.plan != caller.plan),
        )
    )
    session.execute(statement)
    found = session.execute(
        select(User, deleting.label("deleting")).where(User.id == caller.user_id).execution_options(populate_existing=True)
    ).one_or_none()
    if found is None or found.deleting:
        raise account_deleted()
    return found.User
