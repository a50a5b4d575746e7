"""The database of one container: its engine (created on first use), its sessions, its units of work.

The wiring builds one `Database` per container. Every connection starts with the server-side limits
from the settings (statement, lock wait, idle transaction), sent as startup parameters, so they hold
for every statement without a `SET` that would pin the connection behind RDS Proxy. Over TCP it is
verified TLS or nothing (`storywink.db.tls`); with a secret, its user and password are read again
when the server rejects them (`storywink.db.credentials`).

A pooled connection is pinged before use only when it has been idle DATABASE_PING_AFTER_IDLE_SECONDS
(`ping_when_idle`): a Lambda container thawed after a pause, or a connection RDS Proxy may have closed,
is checked and replaced before a statement fails on it, while a request that follows another by
milliseconds saves the round trip. A connection that breaks in between fails its statement and is
thrown away with the rest of the pool (`discard_broken_connections`: pg8000 raises the socket's own
error, which SQLAlchemy would not take for a disconnect), and the next checkout connects afresh.

A reader (DATABASE_READ_URL, or DATABASE_READ_HOST with the secret's login) gets an engine of its own
with the same limits, pool size and TLS; without one, reads use the primary's engine.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from storywink.config import Settings
from storywink.db.credentials import DatabaseCredentials, SecretReader
from storywink.db.timestamps import read_timestamps_fast
from storywink.db.tls import tls_connect_args


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
        return self._engine(self.settings)

    @cached_property
    def read_engine(self) -> Engine:
        reader = reader_settings(self.settings)
        return self._engine(reader) if reader is not None else self.engine

    @property
    def has_reader(self) -> bool:
        return reader_settings(self.settings) is not None

    def _engine(self, settings: Settings) -> Engine:
        credentials = DatabaseCredentials(settings, self._read_secret)
        engine = create_engine(
            credentials.url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            # A failed statement's error (logged, raised) never shows the values bound to it.
            hide_parameters=True,
            connect_args={"startup_params": connection_limits(settings), **tls_connect_args(settings, credentials.url)},
        )
        ping_when_idle(engine, settings.database_ping_after_idle_seconds)
        discard_broken_connections(engine)
        read_timestamps_fast(engine)
        if credentials.from_secret:
            event.listen(engine, "do_connect", credentials.connect)
        return engine

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return sessionmaker(bind=self.engine, expire_on_commit=False, info=self.session_info)

    @cached_property
    def read_sessions(self) -> sessionmaker[Session]:
        return sessionmaker(bind=self.read_engine, expire_on_commit=False, info=self.session_info)

    @contextmanager
    def read_only(self) -> Iterator[Session]:
        """A session on the reader for reads that may lag a moment; nothing it does is committed."""
        session = self.read_sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

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
        if "read_engine" in self.__dict__:
            self.read_engine.dispose()


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """SQLAlchemy's pre-ping (the dialect's own ping at checkout, a broken connection replaced before use),
    for connections that sat in the pool ``idle_seconds`` or more; a new connection needs none."""

    @event.listens_for(engine, "checkin")
    def returned(dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        returned_at = record.info.pop("returned_at", None)
        if returned_at is None or time.monotonic() - returned_at < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # the pool invalidates this one and checks out another (3 tries)
            raise DisconnectionError(f"the pooled connection is gone: {error}") from error


def discard_broken_connections(engine: Engine) -> None:
    """A statement that failed on the socket (reset, closed, timed out) marks its connection disconnected,
    so the pool replaces it instead of handing it out again."""

    @event.listens_for(engine, "handle_error")
    def on_error(context: Any) -> None:
        if isinstance(context.original_exception, OSError):
            context.is_disconnect = True


def reader_settings(settings: Settings) -> Settings | None:
    """The settings that reach the reader, or None when reads go to the primary."""
    if settings.database_read_url:
        return settings.model_copy(update={"database_url": settings.database_read_url})
    if settings.database_read_host and settings.database_read_host != settings.database_host and not settings.database_url:
        return settings.model_copy(update={"database_host": settings.database_read_host})
    return None
