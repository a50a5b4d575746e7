"""Alembic environment: runs against the connection handed in by storywink.db.migrate, or the configured database."""

from alembic import context

from storywink.db.partitions import compared_by_alembic
from storywink.db.tables import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from storywink.config import load_settings
    from storywink.db.engine import Database

    database = Database(load_settings())
    with database.engine.connect() as conn:
        _run(conn)
        conn.commit()
    database.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection, target_metadata=target_metadata, compare_type=True, include_name=compared_by_alembic
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run against a database.")
run_migrations_online()
