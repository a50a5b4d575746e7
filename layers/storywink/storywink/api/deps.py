"""FastAPI dependencies: settings, a database session per request, the media store and the caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from storywink.auth.claims import Caller
from storywink.auth.verifier import TokenVerifier
from storywink.config import Settings, get_settings
from storywink.db.engine import session_scope
from storywink.db.tables import User
from storywink.domain.errors import Forbidden, Unauthorized
from storywink.services.users import ensure_user
from storywink.storage.media import MediaStore

SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_session() -> Iterator[Session]:
    """One unit of work per request: committed when the route returns, rolled back if it raises."""
    with session_scope() as session:
        yield session


# scope="function": the unit of work commits before the response leaves, so a client that reads right
# after a 201/202 sees what it was told about.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_media(settings: SettingsDep) -> MediaStore:
    return MediaStore(settings.bucket_name)


MediaDep = Annotated[MediaStore, Depends(get_media)]

bearer = HTTPBearer(auto_error=False, description="A JWT from the identity provider (Cognito; locally `storywink token`).")


def get_verifier(settings: SettingsDep) -> TokenVerifier:
    return TokenVerifier.from_settings(settings)


def get_caller(
    request: Request,
    settings: SettingsDep,
    verifier: Annotated[TokenVerifier, Depends(get_verifier)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("A bearer token is required.", code="TOKEN_MISSING")
    caller = verifier.verify(credentials.credentials, admin_group=settings.admin_group)
    request.state.user_id = caller.user_id
    return caller


def get_current_user(caller: Annotated[Caller, Depends(get_caller)], session: SessionDep) -> User:
    return ensure_user(session, caller)


CallerDep = Annotated[Caller, Depends(get_caller)]
CurrentUser = Annotated[User, Depends(get_current_user)]


def require_admin(caller: CallerDep) -> Caller:
    if not caller.is_admin:
        raise Forbidden("This needs an administrator.", code="ADMIN_ONLY")
    return caller


AdminCaller = Annotated[Caller, Depends(require_admin)]
