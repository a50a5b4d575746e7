"""account deletions (the job and its tombstone), exports, and when the sweep last found a user in the directory

Additive only (canary-safe): two new tables, one nullable column.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

DELETION_REASON = postgresql.ENUM("requested", "directory", name="deletion_reason", create_type=False)
EXPORT_STATUS = postgresql.ENUM("PENDING", "BUILDING", "READY", "FAILED", "EXPIRED", name="export_status", create_type=False)


def upgrade() -> None:
    DELETION_REASON.create(op.get_bind(), checkfirst=True)
    EXPORT_STATUS.create(op.get_bind(), checkfirst=True)
    op.add_column("users", sa.Column("directory_checked_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "account_deletions",
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("reason", DELETION_REASON, nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_enqueued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("directory_deleted", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("book_ids", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
        sa.Column("settle_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_account_deletions")),
    )
    op.create_index(
        "ix_account_deletions_unfinished",
        "account_deletions",
        ["last_enqueued_at"],
        postgresql_where=sa.text("finished_at IS NULL"),
    )
    op.create_index(
        "ix_account_deletions_finished",
        "account_deletions",
        ["finished_at"],
        postgresql_where=sa.text("finished_at IS NOT NULL"),
    )
    op.create_table(
        "exports",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("status", EXPORT_STATUS, nullable=False),
        sa.Column("s3_key", sa.String(length=512), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error_code", sa.String(length=80), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_exports_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exports")),
    )
    op.create_index("ix_exports_user_id", "exports", ["user_id", "requested_at"])


def downgrade() -> None:
    op.drop_index("ix_exports_user_id", table_name="exports")
    op.drop_table("exports")
    op.drop_index("ix_account_deletions_finished", table_name="account_deletions")
    op.drop_index("ix_account_deletions_unfinished", table_name="account_deletions")
    op.drop_table("account_deletions")
    op.drop_column("users", "directory_checked_at")
    EXPORT_STATUS.drop(op.get_bind(), checkfirst=True)
    DELETION_REASON.drop(op.get_bind(), checkfirst=True)
