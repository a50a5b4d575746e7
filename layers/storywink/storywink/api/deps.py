"""FastAPI dependencies: the container's settings, database, media store, AWS clients and flags (from the
app's wiring), a unit of work per request, and the caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from storywink.auth.claims import Caller
from storywink.auth.verifier import TokenVerifier
from storywink.aws import AwsClients
from storywink.config import Settings
from storywink.db.engine import Database
from storywink.db.tables import User
from storywink.domain.errors import Forbidden, Unauthorized
from storywink.flags import FlagStore
from storywink.services.users import ensure_user
from storywink.storage.media import MediaStore
from storywink.wiring import Container


async def get_container(request: Request) -> Container:
    return request.app.state.container


ContainerDep = Annotated[Container, Depends(get_container)]


async def get_settings(container: ContainerDep) -> Settings:
    return container.settings


async def get_database(container: ContainerDep) -> Database:
    return container.database


async def get_aws(container: ContainerDep) -> AwsClients:
    return container.aws


async def get_flags(container: ContainerDep) -> FlagStore:
    return container.flags


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
AwsDep = Annotated[AwsClients, Depends(get_aws)]
FlagsDep = Annotated[FlagStore, Depends(get_flags)]


def get_session(database: DatabaseDep) -> Iterator[Session]:
    """One unit of work per request, owned by the route: committed when the route returns, rolled back
    if it raises. A route that must make something durable before it goes on commits it as a named step."""
    with database.unit_of_work() as session:
        yield session


# scope="function": the unit of work commits before the response leaves, so a client that reads right
# after a 201/202 sees what it was told about.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_media(container: ContainerDep) -> MediaStore:
    return container.media


MediaDep = Annotated[MediaStore, Depends(get_media)]

bearer = HTTPBearer(auto_error=False, description="A JWT from the identity provider (Cognito; locally `storywink token`).")


async def get_verifier(container: ContainerDep) -> TokenVerifier:
    return container.verifier


def get_caller(
    request: Request,
    verifier: Annotated[TokenVerifier, Depends(get_verifier)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("A bearer token is required.", code="TOKEN_MISSING")
    caller = verifier.verify(credentials.credentials)
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
