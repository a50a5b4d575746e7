"""SQLAlchemy 2 ORM tables. Enum columns are native PostgreSQL enums built from storywink.domain.enums."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storywink.domain.book_details import BookDetails
from storywink.domain.enums import BookStatus, DeletionReason, ExportStatus, JobStatus, JobStep, ModerationStatus, Plan

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def pg_enum(enum_cls: type[StrEnum], name: str) -> Enum:
    """A native enum whose database labels are the Python values (one spelling everywhere)."""
    return Enum(enum_cls, name=name, values_callable=lambda cls: [m.value for m in cls], validate_strings=True)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class User(Timestamps, Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)  # the auth subject
    email: Mapped[str | None] = mapped_column(String(320))
    plan: Mapped[Plan] = mapped_column(pg_enum(Plan, "user_plan"), default=Plan.FREE)
    # When the account sweep last found this user in the user directory (None: not yet asked).
    directory_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Asset(Timestamps, Base):
    __tablename__ = "assets"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    book_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("books.id", ondelete="CASCADE"), index=True)
    s3_key: Mapped[str] = mapped_column(String(512), unique=True)
    thumbnail_key: Mapped[str] = mapped_column(String(512))
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)


class Book(Timestamps, Base):
    __tablename__ = "books"
    __table_args__ = (
        # A waiting book's place in its line: the books of the same status and line whose wait began earlier.
        Index(
            "ix_books_waiting",
            "status",
            "queue_priority",
            "queued_at",
            "id",
            postgresql_where=text("queued_at IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    child_name: Mapped[str] = mapped_column(String(100))
    art_style: Mapped[str] = mapped_column(String(40))
    tone: Mapped[str | None] = mapped_column(Text)
    theme: Mapped[str | None] = mapped_column(Text)
    key_characters: Mapped[str | None] = mapped_column(Text)
    special_objects: Mapped[str | None] = mapped_column(Text)
    excitement_element: Mapped[str | None] = mapped_column(Text)
    auto_illustrate: Mapped[bool] = mapped_column(Boolean, default=True)
    cover_asset_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("assets.id", ondelete="SET NULL", use_alter=True), nullable=True
    )
    status: Mapped[BookStatus] = mapped_column(pg_enum(BookStatus, "book_status"), default=BookStatus.DRAFT)
    status_reason: Mapped[str | None] = mapped_column(Text)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    pdf_key: Mapped[str | None] = mapped_column(String(512))
    generation_attempt: Mapped[int] = mapped_column(Integer, default=0)
    execution_arn: Mapped[str | None] = mapped_column(String(2048))
    last_event_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # The line its current execution's story and illustration tasks wait in (ExecutionInput.priority).
    queue_priority: Mapped[str] = mapped_column(String(16), default="standard", server_default="standard")
    # Set when the book enters GENERATING or ILLUSTRATING, cleared when that step's first task is claimed
    # (or the status moves on): the book is waiting for capacity while it is set.
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A generation asked for later (POST /generate with startAt): when, and the one-time schedule that will
    # start it. A fire whose schedule name is not this one is stale (cancelled, replaced, or already fired).
    scheduled_start_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    schedule_name: Mapped[str | None] = mapped_column(String(64))

    pages: Mapped[list[Page]] = relationship(
        back_populates="book", order_by="Page.page_number", cascade="all, delete-orphan", passive_deletes=True
    )
    cover_asset: Mapped[Asset | None] = relationship(foreign_keys=[cover_asset_id])

    # The details' columns are named after BookDetails' fields: this is their one mapping.
    @property
    def details(self) -> BookDetails:
        return BookDetails.model_validate(self)

    @details.setter
    def details(self, details: BookDetails) -> None:
        for name in BookDetails.model_fields:
            setattr(self, name, getattr(details, name))


class Page(Timestamps, Base):
    __tablename__ = "pages"
    __table_args__ = (
        # Deferred so a reorder can swap numbers inside one transaction.
        UniqueConstraint("book_id", "page_number", deferrable=True, initially="DEFERRED"),
        # The pages still to illustrate: counted for every book ahead of a waiting one (its place in line).
        Index("ix_pages_pending", "book_id", postgresql_where=text("moderation_status = 'PENDING'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    book_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("books.id", ondelete="CASCADE"), index=True)
    asset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    page_number: Mapped[int] = mapped_column(Integer)
    is_title_page: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str | None] = mapped_column(Text)
    text_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    illustration_notes: Mapped[str | None] = mapped_column(Text)
    illustration_key: Mapped[str | None] = mapped_column(String(512))
    moderation_status: Mapped[ModerationStatus] = mapped_column(
        pg_enum(ModerationStatus, "moderation_status"), default=ModerationStatus.PENDING
    )
    moderation_reason: Mapped[str | None] = mapped_column(Text)

    book: Mapped[Book] = relationship(back_populates="pages")
    asset: Mapped[Asset] = relationship(foreign_keys=[asset_id])


class JobRun(Base):
    """One attempt of one pipeline step (job history)."""

    __tablename__ = "job_runs"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    book_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("books.id", ondelete="CASCADE"), index=True)
    page_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"), nullable=True)
    step: Mapped[JobStep] = mapped_column(pg_enum(JobStep, "job_step"))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[JobStatus] = mapped_column(pg_enum(JobStatus, "job_status"))
    # sha256 of the Step Functions task token: one row per task attempt, so a redelivered message is recognised.
    task_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    message_id: Mapped[str | None] = mapped_column(String(128))
    deliveries: Mapped[int] = mapped_column(Integer, default=1)
    error_code: Mapped[str | None] = mapped_column(String(80))
    error_message: Mapped[str | None] = mapped_column(Text)
    # What was reported to Step Functions, so a redelivered message can report it again without redoing work.
    output: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    provider: Mapped[str | None] = mapped_column(String(80))
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    # While RUNNING: which delivery holds the task and until when (renewed while it works). The token
    # itself lets the sweeper fail the task of a worker that died without a word.
    lease_owner: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    task_token: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # The sweeper's query: running tasks whose lease has run out.
        Index("ix_job_runs_running_lease", "lease_expires_at", postgresql_where=text("status = 'RUNNING'")),
        # A step's latest successful runs: the mean task duration behind a waiting book's estimate.
        Index("ix_job_runs_step_succeeded", "step", "finished_at", postgresql_where=text("status = 'SUCCEEDED'")),
        # Retention: the oldest runs first.
        Index("ix_job_runs_started_at", "started_at"),
    )


class BookEvent(Base):
    """Append-only progress log; ``seq`` runs 1, 2, 3, ... per book with no gaps (each from one atomic
    increment of books.last_event_seq). Partitioned by month of created_at (storywink.db.partitions), so its
    key holds created_at too; (book_id, seq) names an event."""

    __tablename__ = "book_events"
    __table_args__ = (
        # Retention deletes the rows of the month that straddles its cutoff by time.
        Index("ix_book_events_created_at", "created_at", postgresql_using="brin"),
        {"postgresql_partition_by": "RANGE (created_at)"},
    )

    book_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("books.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), primary_key=True)


class IdempotencyRecord(Base):
    """The first response to a request sent with an Idempotency-Key, replayed for repeats of it."""

    __tablename__ = "idempotency_records"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    route: Mapped[str] = mapped_column(String(200))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)


class UsageCounter(Base):
    """How much of one quota or rate limit a user has used in one fixed window (see services/limits.py)."""

    __tablename__ = "usage_counters"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    bucket: Mapped[str] = mapped_column(Text, primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True, index=True)
    count: Mapped[int] = mapped_column(Integer)


class ProviderCallDay(Base):
    """The AI provider calls the starts of one UTC day have planned, over all users (services/provider_budget.py)."""

    __tablename__ = "provider_call_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    calls: Mapped[int] = mapped_column(Integer)


class StreamLease(Base):
    """One open Server-Sent Events stream: a user may hold only so many (see services/stream_leases.py).
    A stream renews its lease while it runs and deletes it when it ends; a crashed one's lease runs out."""

    __tablename__ = "stream_leases"
    __table_args__ = (Index("ix_stream_leases_user_id", "user_id"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    book_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("books.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AccountDeletion(Base):
    """A user's account deletion: the job's progress while it runs, then a short-lived tombstone that keeps a
    still-valid token from bringing the account back (see storywink.privacy.deletion). Holds no personal data
    but the user id; no foreign key, as it outlives the users row."""

    __tablename__ = "account_deletions"
    __table_args__ = (
        # The sweep's queries: deletions that stalled, and finished ones whose tombstone has served its time.
        Index("ix_account_deletions_unfinished", "last_enqueued_at", postgresql_where=text("finished_at IS NULL")),
        Index("ix_account_deletions_finished", "finished_at", postgresql_where=text("finished_at IS NOT NULL")),
    )

    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    reason: Mapped[DeletionReason] = mapped_column(pg_enum(DeletionReason, "deletion_reason"))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # When the job's message was last sent: a repeat DELETE or the sweep sends another only after a while.
    last_enqueued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    directory_deleted: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    # Every book deleted so far: the last pass deletes their prefixes once more (a late upload of a worker
    # that was mid-way when its book went).
    book_ids: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")
    # The last pass waits until then (the longest a step or export worker may still run).
    settle_after: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Export(Base):
    """A zip of everything held about a user, built by the export worker under exports/{userId}/."""

    __tablename__ = "exports"
    __table_args__ = (Index("ix_exports_user_id", "user_id", "requested_at"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[ExportStatus] = mapped_column(pg_enum(ExportStatus, "export_status"), default=ExportStatus.PENDING)
    s3_key: Mapped[str] = mapped_column(String(512))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error_code: Mapped[str | None] = mapped_column(String(80))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ready_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Batch(Base):
    """An operator's action on many books (POST /v1/admin/batches), fed to the pipeline at a bounded rate."""

    __tablename__ = "batches"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    operation: Mapped[str] = mapped_column(String(32))
    requested_by: Mapped[str] = mapped_column(String(128))
    # What was asked for: the book ids, or the filter they were chosen by.
    selection: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class BatchItem(Base):
    """One book of a batch: QUEUED, RUNNING (its execution started), DONE or FAILED, with the outcome.

    No foreign key to the book: a book deleted meanwhile is an outcome (BOOK_NOT_FOUND), not a vanished row."""

    __tablename__ = "batch_items"
    __table_args__ = (Index("ix_batch_items_status", "status", "batch_id", "position"),)

    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), primary_key=True)
    book_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    execution_arn: Mapped[str | None] = mapped_column(String(2048))
    outcome_code: Mapped[str | None] = mapped_column(String(80))
    outcome_message: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MaintenanceLease(Base):
    """One maintenance task's lease and where it got to (storywink.maintenance): a run that finds the lease
    held by another leaves the task alone; the media sweep and the stuck-book check resume at ``position``."""

    __tablename__ = "maintenance_leases"

    task: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    position: Mapped[str | None] = mapped_column(Text)
