"""retention: book_events partitioned by month; indexes the retention deletes use; maintenance leases

book_events becomes a table partitioned by range of created_at, one partition a month plus a default one;
its rows are copied over. A partitioned table's primary key must hold the partition key, so the key is
(book_id, seq, created_at): its index serves every read (a book's events after a seq) and the surrogate
id, which nothing read, goes. The per-book sequence stays gap-free and unique because each event's seq
comes from one atomic increment of books.last_event_seq (services/events.py).

job_runs stays one table (README: Retention): its unique task-token hash is what recognises a redelivered
message, and a unique index of a partitioned table must hold the partition key.

Revision ID: 0010_retention
Revises: 0009_scheduling_and_batches
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from storywink.db import partitions

revision = "0010_retention"
down_revision = "0009_scheduling_and_batches"
branch_labels = None
depends_on = None


def _months_with_rows(connection: sa.Connection, table: str) -> list[datetime]:
    oldest = connection.execute(sa.text(f"SELECT min(created_at) FROM {table}")).scalar_one()
    now = datetime.now(UTC)
    month = partitions.month_start(oldest or now)
    months = []
    while month <= partitions.month_start(now):
        months.append(month)
        month = partitions.add_months(month, 1)
    return months


def upgrade() -> None:
    connection = op.get_bind()
    op.execute("ALTER TABLE book_events RENAME TO book_events_unpartitioned")
    op.execute("ALTER INDEX pk_book_events RENAME TO pk_book_events_unpartitioned")
    op.execute("ALTER INDEX uq_book_events_book_id RENAME TO uq_book_events_unpartitioned_book_id")
    op.create_table(
        "book_events",
        sa.Column("book_id", sa.UUID(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["book_id"], ["books.id"], name=op.f("fk_book_events_book_id_books"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("book_id", "seq", "created_at", name=op.f("pk_book_events")),
        postgresql_partition_by="RANGE (created_at)",
    )
    # Retention deletes the rows of the month that straddles the cutoff by time: BRIN suits an append-only log.
    op.create_index("ix_book_events_created_at", "book_events", ["created_at"], postgresql_using="brin")
    partitions.create_default_partition(connection, "book_events")
    for month in _months_with_rows(connection, "book_events_unpartitioned"):
        partitions.create_month_partition(connection, "book_events", month)
    partitions.ensure_months_ahead(connection, "book_events", datetime.now(UTC))
    op.execute(
        "INSERT INTO book_events (book_id, seq, type, payload, created_at) "
        "SELECT book_id, seq, type, payload, created_at FROM book_events_unpartitioned"
    )
    op.drop_table("book_events_unpartitioned")

    # What the maintenance job deletes by age, found without a scan.
    op.create_index("ix_job_runs_started_at", "job_runs", ["started_at"])
    op.create_index("ix_idempotency_records_created_at", "idempotency_records", ["created_at"])
    op.create_index("ix_usage_counters_window_start", "usage_counters", ["window_start"])
    op.create_table(
        "maintenance_leases",
        sa.Column("task", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.UUID(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("position", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("task", name=op.f("pk_maintenance_leases")),
    )


def downgrade() -> None:
    op.drop_table("maintenance_leases")
    op.drop_index("ix_usage_counters_window_start", table_name="usage_counters")
    op.drop_index("ix_idempotency_records_created_at", table_name="idempotency_records")
    op.drop_index("ix_job_runs_started_at", table_name="job_runs")

    op.execute("ALTER TABLE book_events RENAME TO book_events_partitioned")
    op.execute("ALTER INDEX pk_book_events RENAME TO pk_book_events_partitioned")
    op.create_table(
        "book_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("book_id", sa.UUID(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["book_id"], ["books.id"], name=op.f("fk_book_events_book_id_books"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_book_events")),
        sa.UniqueConstraint("book_id", "seq", name=op.f("uq_book_events_book_id")),
    )
    op.execute(
        "INSERT INTO book_events (book_id, seq, type, payload, created_at) "
        "SELECT book_id, seq, type, payload, created_at FROM book_events_partitioned ORDER BY created_at, book_id, seq"
    )
    op.execute("DROP TABLE book_events_partitioned")  # with its partitions
