"""admission: each book's line (standard or premium) and when its wait for capacity began

Books already running when this applies keep queued_at NULL: they count as started, never as waiting.
Both columns are ignored by code that predates them, so old and new versions can share the database
during a gradual deployment.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("books", sa.Column("queue_priority", sa.String(length=16), nullable=False, server_default="standard"))
    op.add_column("books", sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
    # A waiting book's place in its line.
    op.create_index(
        "ix_books_waiting",
        "books",
        ["status", "queue_priority", "queued_at", "id"],
        postgresql_where=sa.text("queued_at IS NOT NULL"),
    )
    # A step's latest successful runs, for the mean task duration.
    op.create_index(
        "ix_job_runs_step_succeeded",
        "job_runs",
        ["step", "finished_at"],
        postgresql_where=sa.text("status = 'SUCCEEDED'"),
    )


def downgrade() -> None:
    op.drop_index("ix_job_runs_step_succeeded", table_name="job_runs")
    op.drop_index("ix_books_waiting", table_name="books")
    op.drop_column("books", "queued_at")
    op.drop_column("books", "queue_priority")
