"""The schema migrates up and down cleanly on a real PostgreSQL."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

from storywink.db import migrate
from storywink.db.partitions import compared_by_alembic
from storywink.db.tables import Base


def table_and_enum_names(url: str) -> tuple[set[str], set[str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            enums = set(connection.execute(text("SELECT typname FROM pg_type WHERE typtype = 'e'")).scalars())
        return tables, enums
    finally:
        engine.dispose()


def test_upgrade_creates_every_table_and_downgrade_removes_everything(embedded_postgres):
    url = embedded_postgres.create_database("storywink_migration_check", recreate=True)
    migrate.upgrade(url)
    tables, enums = table_and_enum_names(url)
    assert set(Base.metadata.tables) <= tables
    assert {"book_status", "moderation_status", "user_plan", "job_step", "job_status"} <= enums

    migrate.downgrade(url)
    tables, enums = table_and_enum_names(url)
    assert tables <= {"alembic_version"} and not enums

    migrate.upgrade(url)
    assert set(Base.metadata.tables) <= table_and_enum_names(url)[0]


def test_models_and_migrations_agree(database_url):
    """Autogenerate against the migrated database finds nothing to change."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"include_name": compared_by_alembic})
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert [d for d in diff if not (isinstance(d, tuple) and d[0] == "remove_index" and d[1].name == "ix_books_owner_updated")] == []


def test_the_migrate_command_migrates_the_configured_database_through_its_engine(embedded_postgres, monkeypatch):
    from storywink.local.cli import main

    url = embedded_postgres.create_database("storywink_migrate_command", recreate=True)
    monkeypatch.setenv("DATABASE_URL", url)
    try:
        assert main(["migrate"]) == 0
        assert set(Base.metadata.tables) <= table_and_enum_names(url)[0]
        assert main(["migrate", "--down"]) == 0
        assert table_and_enum_names(url)[0] <= {"alembic_version"}
    finally:
        embedded_postgres.drop_database("storywink_migrate_command")
