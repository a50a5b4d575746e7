"""Generations asked for later: POST /generate with startAt makes a one-time EventBridge Scheduler schedule
that invokes the scheduled-start function at that time; DELETE /schedule cancels it.

The book holds the truth: its `schedule_name` and `scheduled_start_at`. The schedule is only the alarm
clock. Scheduler delivers at least once and the target may run twice, late, or after a cancel that could not
delete the schedule, so a fire starts the book only while the book still names that very schedule, and the
start clears the name in the same transaction: a duplicate or stale fire finds nothing to start. The start
itself is the immediate generate's (storywink.services.starts): charged, planned and budgeted when it
happens, not when it was asked for.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel
from sqlalchemy import select
from sqlalchemy.orm import Session

from storywink.config import Settings
from storywink.db.engine import Database
from storywink.db.tables import Book, User
from storywink.domain.errors import AppError, Conflict, NotFound, ServiceUnavailable, ValidationFailed
from storywink.domain.generation_rules import check_can_generate
from storywink.observability import logger
from storywink.services import starts
from storywink.services.generation import Generation
from storywink.services.status import BookStatusService, StatusUpdate

NAME_PREFIX = "start-"


class ScheduledStartInput(BaseModel):
    """What a schedule hands its target (the schedule's Target.Input)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    book_id: UUID
    schedule_name: str
    # The caller was an admin when the start was asked for (the claim lives in the token, not the database).
    exempt: bool = False
    correlation_id: str = ""


@dataclass(frozen=True)
class PlannedSchedule:
    name: str
    start_at: datetime
    input: ScheduledStartInput


def utcnow() -> datetime:
    return datetime.now(UTC)


def at_expression(moment: datetime) -> str:
    """EventBridge Scheduler's one-time expression, in UTC (the schedule says so), to the second."""
    return f"at({moment.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S')})"


def whole_second_after(moment: datetime) -> datetime:
    """``moment`` rounded up to the second: the schedule fires at or after the time asked for, never before."""
    moment = moment.astimezone(UTC)
    return datetime.fromtimestamp(math.ceil(moment.timestamp()), UTC)


def check_start_at(start_at: datetime, max_days: int, now: datetime | None = None) -> datetime:
    """The time a start may be scheduled for: in the future and at most ``max_days`` ahead (422 otherwise)."""
    now = now or utcnow()
    if start_at.tzinfo is None:
        raise ValidationFailed("startAt needs a time zone offset (RFC 3339).", code="VALIDATION_FAILED")
    if start_at <= now:
        raise ValidationFailed(
            "startAt must be in the future.", code="START_AT_NOT_IN_FUTURE", details=[_issue("must be in the future")]
        )
    if start_at > now + timedelta(days=max_days):
        raise ValidationFailed(
            f"startAt may be at most {max_days} days ahead.",
            code="START_AT_TOO_FAR",
            details=[_issue(f"must be within {max_days} days")],
        )
    return whole_second_after(start_at)


def _issue(message: str) -> dict[str, str]:
    return {"field": "startAt", "message": message, "type": "value_error"}


class GenerationScheduler:
    """The schedules of scheduled starts, in one EventBridge Scheduler group."""

    def __init__(self, scheduler: Any, settings: Settings) -> None:
        self._scheduler = scheduler
        self._settings = settings

    def plan(
        self, session: Session, pipeline: Generation, book: Book, start_at: datetime, exempt: bool, correlation_id: str
    ) -> PlannedSchedule:
        """Record a scheduled start on the locked book (the caller commits, then `create`s the schedule). The
        book must be one a generate would start now: the refusal comes today, not silently at the time."""
        self._require_configured()
        pipeline.require_not_running(session, book)
        check_can_generate(book.status, len(book.pages))
        if book.schedule_name is not None:
            raise Conflict(
                "This book already has a scheduled start; cancel it first.",
                code="GENERATION_ALREADY_SCHEDULED",
                details={"scheduledStartAt": book.scheduled_start_at.isoformat() if book.scheduled_start_at else None},
            )
        name = f"{NAME_PREFIX}{book.id}-{secrets.token_hex(4)}"
        book.schedule_name = name
        book.scheduled_start_at = start_at
        BookStatusService(session).update_status(
            book.id, StatusUpdate("generation.scheduled", data={"scheduledStartAt": start_at.isoformat()})
        )
        return PlannedSchedule(
            name, start_at, ScheduledStartInput(book_id=book.id, schedule_name=name, exempt=exempt, correlation_id=correlation_id)
        )

    def create(self, planned: PlannedSchedule) -> None:
        """The one-time schedule for a start the caller has committed; ServiceUnavailable if it is not made."""
        settings = self._settings
        try:
            self._scheduler.create_schedule(
                Name=planned.name,
                GroupName=settings.schedule_group_name,
                ScheduleExpression=at_expression(planned.start_at),
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                ActionAfterCompletion="DELETE",
                Target={
                    "Arn": settings.schedule_target_arn,
                    "RoleArn": settings.schedule_role_arn,
                    "Input": planned.input.model_dump_json(by_alias=True),
                    # A fire that fails is tried again for up to an hour; the book decides whether it still counts.
                    "RetryPolicy": {"MaximumRetryAttempts": 5, "MaximumEventAgeInSeconds": 3600},
                },
            )
        except ClientError as exc:
            logger.exception("schedule not created", extra={"bookId": str(planned.input.book_id)})
            raise ServiceUnavailable("The start could not be scheduled; please try again.", code="SCHEDULER_UNAVAILABLE") from exc
        logger.info(
            "generation scheduled",
            extra={"action": "generation.schedule", "bookId": str(planned.input.book_id), "startAt": planned.start_at.isoformat()},
        )

    def record_create_failure(self, session: Session, book: Book, name: str) -> None:
        if book.schedule_name == name:
            _unschedule(session, book, "generation.unscheduled")

    def cancel(self, session: Session, book: Book) -> str:
        """Forget the locked book's scheduled start (404 when it has none); returns the schedule to `delete`
        once the caller has committed. A fire that comes anyway finds nothing to start."""
        if book.schedule_name is None:
            raise NotFound("This book has no scheduled start.", code="SCHEDULE_NOT_FOUND")
        name = book.schedule_name
        _unschedule(session, book, "generation.unscheduled")
        return name

    def delete(self, name: str) -> None:
        """Delete a schedule the book no longer names. Best effort: one left behind fires into nothing."""
        if not self._settings.schedule_group_name:
            return
        try:
            self._scheduler.delete_schedule(Name=name, GroupName=self._settings.schedule_group_name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                logger.warning("schedule not deleted; its fire will be ignored", extra={"schedule": name})

    def _require_configured(self) -> None:
        settings = self._settings
        if not (settings.schedule_group_name and settings.schedule_target_arn and settings.schedule_role_arn):
            raise ServiceUnavailable("Scheduled starts are not configured.", code="SCHEDULER_NOT_CONFIGURED")


def _unschedule(session: Session, book: Book, event_type: str, **data: Any) -> None:
    book.schedule_name = None
    book.scheduled_start_at = None
    BookStatusService(session).update_status(book.id, StatusUpdate(event_type, data={"scheduled": False, **data}))


def fire(database: Database, pipeline: Generation, settings: Settings, request: ScheduledStartInput) -> str:
    """A schedule's time has come: start the book as an immediate generate would, if the book still names
    this schedule. Returns what happened: started, stale (cancelled, replaced, already started, or the book
    deleted), refused (the start's own refusal, recorded on the book) or launch-failed."""
    log = {"bookId": str(request.book_id), "schedule": request.schedule_name}
    with database.unit_of_work() as session:
        book = _current(session, request)
        if book is None:
            logger.info("scheduled start ignored: stale or duplicate fire", extra={"action": "generation.scheduled_fire", **log})
            return "stale"
        owner = session.get(User, book.owner_id)  # the foreign key keeps it while the book exists
        try:
            planned = starts.begin(
                session, settings, book, owner, pipeline.plan_generation, request.correlation_id, exempt=request.exempt  # type: ignore[arg-type]
            )
        except AppError as refusal:
            session.rollback()  # nothing of the refused start stays, its charge included
            book = _current(session, request)
            if book is None:
                return "stale"
            _unschedule(session, book, "generation.schedule_refused", code=refusal.code, message=refusal.message)
            logger.info("scheduled start refused", extra={"action": "generation.scheduled_fire", "code": refusal.code, **log})
            return "refused"
        session.commit()
        try:
            starts.launch(session, pipeline, book, planned)
        except ServiceUnavailable:
            return "launch-failed"
    logger.info("scheduled start started", extra={"action": "generation.scheduled_fire", **log})
    return "started"


def _current(session: Session, request: ScheduledStartInput) -> Book | None:
    """The book, locked, if it still names the schedule that fired."""
    book = session.execute(select(Book).where(Book.id == request.book_id).with_for_update()).scalar_one_or_none()
    if book is None or book.schedule_name != request.schedule_name:
        return None
    return book
