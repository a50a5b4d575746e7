"""initial schema

Revision ID: 0001
Revises: 
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('users',
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('plan', sa.Enum('free', 'premium', name='user_plan'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users'))
    )
    op.create_table('books',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('owner_id', sa.String(length=128), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('child_name', sa.String(length=100), nullable=False),
    sa.Column('art_style', sa.String(length=40), nullable=False),
    sa.Column('tone', sa.Text(), nullable=True),
    sa.Column('theme', sa.Text(), nullable=True),
    sa.Column('key_characters', sa.Text(), nullable=True),
    sa.Column('special_objects', sa.Text(), nullable=True),
    sa.Column('excitement_element', sa.Text(), nullable=True),
    sa.Column('auto_illustrate', sa.Boolean(), nullable=False),
    sa.Column('cover_asset_id', sa.UUID(), nullable=True),
    sa.Column('status', sa.Enum('DRAFT', 'GENERATING', 'STORY_READY', 'ILLUSTRATING', 'COMPLETED', 'PARTIAL', 'FAILED', name='book_status'), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('prompt_tokens', sa.Integer(), nullable=False),
    sa.Column('completion_tokens', sa.Integer(), nullable=False),
    sa.Column('pdf_key', sa.String(length=512), nullable=True),
    sa.Column('generation_attempt', sa.Integer(), nullable=False),
    sa.Column('execution_arn', sa.String(length=2048), nullable=True),
    sa.Column('last_event_seq', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_books_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_books'))
    )
    op.create_index(op.f('ix_books_owner_id'), 'books', ['owner_id'], unique=False)
    op.create_table('assets',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('owner_id', sa.String(length=128), nullable=False),
    sa.Column('book_id', sa.UUID(), nullable=False),
    sa.Column('s3_key', sa.String(length=512), nullable=False),
    sa.Column('thumbnail_key', sa.String(length=512), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['book_id'], ['books.id'], name=op.f('fk_assets_book_id_books'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_assets_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assets')),
    sa.UniqueConstraint('s3_key', name=op.f('uq_assets_s3_key'))
    )
    op.create_index(op.f('ix_assets_book_id'), 'assets', ['book_id'], unique=False)
    op.create_index(op.f('ix_assets_owner_id'), 'assets', ['owner_id'], unique=False)
    op.create_table('book_events',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('book_id', sa.UUID(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['book_id'], ['books.id'], name=op.f('fk_book_events_book_id_books'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_book_events')),
    sa.UniqueConstraint('book_id', 'seq', name=op.f('uq_book_events_book_id'))
    )
    op.create_table('pages',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('book_id', sa.UUID(), nullable=False),
    sa.Column('asset_id', sa.UUID(), nullable=False),
    sa.Column('page_number', sa.Integer(), nullable=False),
    sa.Column('is_title_page', sa.Boolean(), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('text_confirmed', sa.Boolean(), nullable=False),
    sa.Column('illustration_notes', sa.Text(), nullable=True),
    sa.Column('illustration_key', sa.String(length=512), nullable=True),
    sa.Column('moderation_status', sa.Enum('PENDING', 'OK', 'FLAGGED', 'FAILED', name='moderation_status'), nullable=False),
    sa.Column('moderation_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_pages_asset_id_assets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['book_id'], ['books.id'], name=op.f('fk_pages_book_id_books'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pages')),
    sa.UniqueConstraint('book_id', 'page_number', deferrable=True, initially='DEFERRED', name=op.f('uq_pages_book_id'))
    )
    op.create_index(op.f('ix_pages_book_id'), 'pages', ['book_id'], unique=False)
    op.create_table('job_runs',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('book_id', sa.UUID(), nullable=False),
    sa.Column('page_id', sa.UUID(), nullable=True),
    sa.Column('step', sa.Enum('STORY', 'ILLUSTRATION', 'FINALIZE', 'PDF', name='job_step'), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('RUNNING', 'SUCCEEDED', 'FAILED', 'DEAD_LETTERED', name='job_status'), nullable=False),
    sa.Column('task_token_hash', sa.String(length=64), nullable=True),
    sa.Column('message_id', sa.String(length=128), nullable=True),
    sa.Column('deliveries', sa.Integer(), nullable=False),
    sa.Column('error_code', sa.String(length=80), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('output', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('provider', sa.String(length=80), nullable=True),
    sa.Column('prompt_tokens', sa.Integer(), nullable=False),
    sa.Column('completion_tokens', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['book_id'], ['books.id'], name=op.f('fk_job_runs_book_id_books'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['page_id'], ['pages.id'], name=op.f('fk_job_runs_page_id_pages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs')),
    sa.UniqueConstraint('task_token_hash', name=op.f('uq_job_runs_task_token_hash'))
    )
    op.create_index(op.f('ix_job_runs_book_id'), 'job_runs', ['book_id'], unique=False)
    # books <-> assets reference each other: the cover FK comes once both tables exist.
    op.create_foreign_key(
        op.f('fk_books_cover_asset_id_assets'), 'books', 'assets', ['cover_asset_id'], ['id'], ondelete='SET NULL'
    )
    # "My library" pages through a user's books newest first.
    op.create_index('ix_books_owner_updated', 'books', ['owner_id', sa.text('updated_at DESC'), sa.text('id DESC')])


def downgrade() -> None:
    op.drop_constraint(op.f('fk_books_cover_asset_id_assets'), 'books', type_='foreignkey')
    op.drop_index('ix_books_owner_updated', table_name='books')
    op.drop_index(op.f('ix_job_runs_book_id'), table_name='job_runs')
    op.drop_table('job_runs')
    op.drop_index(op.f('ix_pages_book_id'), table_name='pages')
    op.drop_table('pages')
    op.drop_table('book_events')
    op.drop_index(op.f('ix_assets_owner_id'), table_name='assets')
    op.drop_index(op.f('ix_assets_book_id'), table_name='assets')
    op.drop_table('assets')
    op.drop_index(op.f('ix_books_owner_id'), table_name='books')
    op.drop_table('books')
    op.drop_table('users')
    for enum_name in ('job_status', 'job_step', 'moderation_status', 'book_status', 'user_plan'):
        sa.Enum(name=enum_name).drop(op.get_bind(), checkfirst=True)
