"""The database of one container: its engine (created on first use), its sessions, its units of work.

The wiring builds one `Database` per container. Every connection starts with the server-side limits
from the settings (statement, lock wait, idle transaction), sent as startup parameters, so they hold
for every statement without a `SET` that would pin the connection behind RDS Proxy.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from storywink.config import Settings
from storywink.domain.errors import ServiceUnavailable

SecretReader = Callable[[str], str]


def resolve_database_url(settings: Settings, read_secret: SecretReader | None = None) -> str:
    if settings.database_url:
        return settings.database_url
    if settings.database_secret_arn:
        if read_secret is None:
            from aws_lambda_powertools.utilities.parameters import get_secret

            read_secret = lambda arn: str(get_secret(arn, max_age=300))
        secret = read_secret(settings.database_secret_arn)
        return json.loads(secret)["url"] if secret.lstrip().startswith("{") else secret
    raise ServiceUnavailable(
        "No database configured: set DATABASE_URL or DATABASE_SECRET_ARN", code="DATABASE_NOT_CONFIGURED"
    )


def connection_limits(settings: Settings) -> dict[str, str]:
    return {
        "statement_timeout": str(settings.database_statement_timeout_ms),
        "lock_timeout": str(settings.database_lock_timeout_ms),
        "idle_in_transaction_session_timeout": str(settings.database_idle_in_transaction_timeout_ms),
    }


class Database:
    def __init__(
        self, settings: Settings, *, session_info: dict[str, Any] | None = None, read_secret: SecretReader | None = None
    ) -> None:
        self.settings = settings
        # Copied into every session: how the event log finds this container's publishers after a commit.
        self.session_info = session_info if session_info is not None else {}
        self._read_secret = read_secret

    @cached_property
    def engine(self) -> Engine:
        settings = self.settings
        return create_engine(
            resolve_database_url(settings, self._read_secret),
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            pool_pre_ping=True,
            connect_args={"startup_params": connection_limits(settings)},
        )

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return sessionmaker(bind=self.engine, expire_on_commit=False, info=self.session_info)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any error; the connection goes back after."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def checked_out(self) -> int:
        """Connections of this container's pool in use right now."""
        if "engine" not in self.__dict__:
            return 0
        return self.engine.pool.checkedout()  # type: ignore[attr-defined]

    def dispose(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
