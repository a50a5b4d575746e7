"""job leases: a claimed task's lease (renewed while its worker works) and its token, for the sweeper

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("job_runs", sa.Column("lease_owner", postgresql.UUID(as_uuid=True), nullable=True))
    op.add_column("job_runs", sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("job_runs", sa.Column("task_token", sa.Text(), nullable=True))
    # The sweeper's query: running tasks whose lease has run out.
    op.create_index(
        "ix_job_runs_running_lease",
        "job_runs",
        ["lease_expires_at"],
        postgresql_where=sa.text("status = 'RUNNING'"),
    )


def downgrade() -> None:
    op.drop_index("ix_job_runs_running_lease", table_name="job_runs")
    op.drop_column("job_runs", "task_token")
    op.drop_column("job_runs", "lease_expires_at")
    op.drop_column("job_runs", "lease_owner")
