"""Apply or roll back the schema with Alembic, programmatically (the CLI, the tests, the local stack and
the migration function a deploy runs).

One run at a time: each takes a transaction-scoped advisory lock first, so two deploys (or a deploy and
a developer) never apply the same revision twice; the second finds the schema at head and does nothing.
A migration may take longer than a request's statement limit, so the run lifts it for its transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, text

from storywink.config import load_settings
from storywink.db.engine import Database

MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_STATEMENT_TIMEOUT = "10min"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    _with_engine(url, lambda engine: upgrade_engine(engine, revision))


def downgrade(url: str, revision: str = "base") -> None:
    _with_engine(url, lambda engine: downgrade_engine(engine, revision))


def upgrade_engine(engine: Engine, revision: str = "head") -> str | None:
    """Upgrade through an engine that already exists (the migration function's, with its TLS and
    credentials); returns the revision the database is at afterwards."""
    _run(engine, command.upgrade, revision)
    return current_revision(engine)


def downgrade_engine(engine: Engine, revision: str = "base") -> None:
    _run(engine, command.downgrade, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _run(engine: Engine, action: Callable[[Config, str], None], revision: str) -> None:
    with engine.begin() as connection:
        _serialise(connection)
        config = alembic_config(engine.url.render_as_string(hide_password=True))
        config.attributes["connection"] = connection
        action(config, revision)


def _serialise(connection: Connection) -> None:
    connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('storywink.schema'))"))
    connection.execute(text(f"SET LOCAL statement_timeout = '{MIGRATION_STATEMENT_TIMEOUT}'"))


def _with_engine(url: str, work: Callable[[Engine], object]) -> None:
    """Through a function's own engine for ``url``: a migration over TCP is held to the same TLS rules."""
    database = Database(load_settings().model_copy(update={"database_url": url}))
    try:
        work(database.engine)
    finally:
        database.dispose()
