"""scheduling and batches: a book's scheduled start, and the admin batches with one row per book

Revision ID: 0009_scheduling_and_batches
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009_scheduling_and_batches"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("books", sa.Column("scheduled_start_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("books", sa.Column("schedule_name", sa.String(length=64), nullable=True))
    op.create_table(
        "batches",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("operation", sa.String(length=32), nullable=False),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        sa.Column("selection", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
    )
    op.create_table(
        "batch_items",
        sa.Column("batch_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("book_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("execution_arn", sa.String(length=2048), nullable=True),
        sa.Column("outcome_code", sa.String(length=80), nullable=True),
        sa.Column("outcome_message", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_batch_items_batch_id_batches"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("batch_id", "book_id", name=op.f("pk_batch_items")),
    )
    # The batch worker's two questions: the next queued items (oldest batch first), and the running ones.
    op.create_index("ix_batch_items_status", "batch_items", ["status", "batch_id", "position"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_batch_items_status", table_name="batch_items")
    op.drop_table("batch_items")
    op.drop_table("batches")
    op.drop_column("books", "schedule_name")
    op.drop_column("books", "scheduled_start_at")
