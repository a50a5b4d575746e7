"""read indexes: each book's pages still waiting for their illustration

A waiting book's place in the illustration line counts the pending pages of every book ahead of it,
and its status counts its own pages being illustrated among its pending ones: both read this small
partial index (a quarter of the pages at most) instead of each book's every page.

Revision ID: 0011_read_indexes
Revises: 0010_retention
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_read_indexes"
down_revision = "0010_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_pages_pending", "pages", ["book_id"], postgresql_where=sa.text("moderation_status = 'PENDING'"))


def downgrade() -> None:
    op.drop_index("ix_pages_pending", table_name="pages")
