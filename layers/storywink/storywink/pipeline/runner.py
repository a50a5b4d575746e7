"""Run one step for one task message without holding a database connection while it waits.

1. A short transaction claims the task (a lease on its JobRun) and reads what the step needs.
2. The slow work — S3, the AI provider, rendering — runs with no connection checked out, while a
   background thread renews the lease.
3. A short transaction writes the result under `FOR UPDATE`, only if this delivery still holds the
   task: a late or superseded result changes nothing.
4. The outcome goes to Step Functions after that commit.

Provider errors are classified and reported with SendTaskFailure (the state machine owns retries).
Anything else is a crash: the lease is released and the message goes back to SQS, is redelivered, and
ends in the DLQ if it keeps failing.
"""

from __future__ import annotations

import contextvars
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol, Self, TypeVar
from uuid import UUID

from sqlalchemy.orm import Session

from storywink.db.engine import Database
from storywink.domain.enums import JobStatus, JobStep
from storywink.observability import emit_metric, log_keys, logger, metrics, tracer
from storywink.pipeline.callbacks import TaskCallbacks
from storywink.pipeline.jobs import Claim, JobLedger, StepOutcome, TaskInFlight
from storywink.pipeline.messages import TaskMessage
from storywink.providers.errors import ProviderError

STALE_ATTEMPT = "Worker.StaleAttempt"
# The book was deleted (with its account, or stopped and deleted) while its task waited: nothing to do.
BOOK_GONE = "Book.Gone"
CRASHED = "Worker.Crashed"  # JobFailed's error class for an attempt that raised (not a classified provider error)
PlanT = TypeVar("PlanT")
TaskT = TypeVar("TaskT", bound=TaskMessage)


class Step(Protocol[TaskT, PlanT]):
    """What one pipeline step does, in the runner's three phases."""

    kind: JobStep

    def prepare(self, session: Session, task: TaskT) -> StepOutcome | PlanT:
        """Read what the work needs (or finish at once, returning the outcome)."""

    def perform(self, plan: PlanT) -> Any:
        """The slow work, with no database connection."""

    def record(self, session: Session, task: TaskT, plan: PlanT, result: Any) -> StepOutcome:
        """Write the result; the caller holds the task's lock."""

    def record_error(self, session: Session, task: TaskT, error: ProviderError) -> None:
        """What a classified provider error changes (a flagged or failed page)."""


@dataclass(frozen=True)
class _Replay:
    status: JobStatus
    output: dict[str, Any] | None
    error_code: str | None
    error_message: str | None


class StepRunner:
    def __init__(self, database: Database, ledger: JobLedger, callbacks: TaskCallbacks, *, renew_seconds: float) -> None:
        self.database = database
        self.ledger = ledger
        self.callbacks = callbacks
        self.renew_seconds = renew_seconds

    def run(self, step: Step[Any, Any], task: TaskMessage, *, message_id: str | None, page_id: UUID | None = None) -> None:
        keys = {"bookId": str(task.book_id), "correlationId": task.correlation_id, "step": step.kind.value, "plan": task.plan}
        keys |= {"pageId": str(page_id)} if page_id else {}
        # One subsegment per step, annotated with ids only (never a name or a text): X-Ray finds a book's
        # path by bookId or correlationId, from the API through the state machine to each worker.
        with log_keys(**keys), tracer.provider.in_subsegment(f"## {step.kind.value.lower()} step") as segment:
            for key, value in keys.items():
                segment.put_annotation(key, value)
            self._run(step, task, message_id, page_id)

    def _run(self, step: Step[Any, Any], task: TaskMessage, message_id: str | None, page_id: UUID | None) -> None:
        claimed = self._claim_and_prepare(step, task, message_id, page_id)
        if claimed is None:
            logger.info("the book is gone: task dropped", extra={"action": step.kind.value})
            self.callbacks.failure(task.task_token, BOOK_GONE, "The book was deleted.")
            return
        claim, replay, plan = claimed
        if claim.in_flight:
            raise TaskInFlight(f"another delivery of this {step.kind.value.lower()} task is being processed")
        if replay is not None:
            self._replay(task.task_token, replay)
            return
        if isinstance(plan, StepOutcome):
            self._succeeded(step, task, plan, time.perf_counter())
            return
        self._perform(step, task, claim.job_id, claim.owner, plan)  # type: ignore[arg-type]

    def _claim_and_prepare(
        self, step: Step[Any, Any], task: TaskMessage, message_id: str | None, page_id: UUID | None
    ) -> tuple[Claim, _Replay | None, Any] | None:
        """None when the book is gone; otherwise the claim, and a replay or the step's plan."""
        with self.database.unit_of_work() as session:
            # Held (KEY SHARE) to the end of the claim: the book cannot go between this look and the claim's row.
            if not self.ledger.lock_book(session, task.book_id):
                return None
            claim = self.ledger.claim(session, step=step.kind, task=task, page_id=page_id, message_id=message_id)
            if claim.in_flight:
                return claim, None, None
            if claim.replay is not None:
                job = claim.replay
                return claim, _Replay(job.status, job.output, job.error_code, job.error_message), None
            job = self.ledger.held(session, claim.job_id, claim.owner)  # type: ignore[arg-type]
            if job is None:
                raise RuntimeError("a task claimed in this transaction is not held")
            if self.ledger.superseded(session, task):
                # A message from an earlier generation of this book (a regenerate or retry came since): drop it.
                self.ledger.finish(job, JobStatus.FAILED, error_code=STALE_ATTEMPT, error_message="superseded")
                return claim, _Replay(JobStatus.FAILED, None, STALE_ATTEMPT, "A newer generation of this book has started."), None
            plan = step.prepare(session, task)
            if isinstance(plan, StepOutcome):
                self.ledger.finish(job, JobStatus.SUCCEEDED, outcome=plan)
            return claim, None, plan

    def _perform(self, step: Step[Any, Any], task: TaskMessage, job_id: UUID, owner: UUID, plan: Any) -> None:
        started = time.perf_counter()
        try:
            with _LeaseKeeper(self, job_id, owner), tracer.provider.in_subsegment(f"## {step.kind.value.lower()} work"):
                result = step.perform(plan)
        except ProviderError as error:
            self._provider_error(step, task, job_id, owner, error)
            return
        except Exception as crash:
            self._release(job_id, owner, crash, step.kind)
            raise
        try:
            with self.database.unit_of_work() as session:
                job = self.ledger.held(session, job_id, owner)
                if job is None:
                    logger.info("late result: the task was taken over meanwhile, nothing recorded")
                    return
                # Done before the step records its result: the events it appends carry progress that counts
                # this job finished (a `story.completed` says storyGeneration.completed: true).
                self.ledger.finish(job, JobStatus.SUCCEEDED)
                outcome = step.record(session, task, plan, result)
                self.ledger.keep_outcome(job, outcome)
        except Exception as crash:
            self._release(job_id, owner, crash, step.kind)
            raise
        self._succeeded(step, task, outcome, started)

    def _provider_error(
        self, step: Step[Any, Any], task: TaskMessage, job_id: UUID, owner: UUID, error: ProviderError
    ) -> None:
        try:
            with self.database.unit_of_work() as session:
                job = self.ledger.held(session, job_id, owner)
                if job is None:
                    return
                self.ledger.finish(job, JobStatus.FAILED, error_code=error.error_name, error_message=str(error))
                step.record_error(session, task, error)  # its events see the job failed
        except Exception as crash:
            self._release(job_id, owner, crash, step.kind)
            raise
        metrics.add_metric(name=f"{step.kind.value.title()}ProviderError", unit="Count", value=1)
        emit_metric("JobFailed", "Count", 1, step=step.kind.value, errorClass=error.error_name)
        logger.warning("step failed", extra={"action": step.kind.value, "error": error.error_name, "cause": str(error)})
        self.callbacks.failure(task.task_token, error.error_name, str(error))

    def _release(self, job_id: UUID, owner: UUID, crash: BaseException, step: JobStep) -> None:
        with self.database.unit_of_work() as session:
            self.ledger.release(session, job_id, owner, f"{type(crash).__name__}: {crash}")
        # A crash is a failed attempt too (its message comes back): the success rate counts attempts.
        emit_metric("JobFailed", "Count", 1, step=step.value, errorClass=CRASHED)

    def _succeeded(self, step: Step[Any, Any], task: TaskMessage, outcome: StepOutcome, started: float) -> None:
        duration_ms = round((time.perf_counter() - started) * 1000)
        metrics.add_metric(name=f"{step.kind.value.title()}Succeeded", unit="Count", value=1)
        emit_metric("JobSucceeded", "Count", 1, step=step.kind.value)
        logger.info("step succeeded", extra={"action": step.kind.value, "duration": duration_ms})
        self.callbacks.success(task.task_token, outcome.output)

    def _replay(self, token: str, replay: _Replay) -> None:
        logger.info("duplicate delivery: reporting the recorded outcome again", extra={"jobStatus": replay.status.value})
        if replay.status == JobStatus.SUCCEEDED:
            self.callbacks.success(token, replay.output or {})
        else:
            self.callbacks.failure(token, replay.error_code or "Worker.Failed", replay.error_message or "")


class _LeaseKeeper:
    """Renews a task's lease every renew_seconds while the work runs (one short transaction each)."""

    def __init__(self, runner: StepRunner, job_id: UUID, owner: UUID) -> None:
        self._runner = runner
        self._job_id = job_id
        self._owner = owner
        self._stop = threading.Event()
        # In the task's context: its renewals log with the task's keys.
        self._thread = threading.Thread(
            target=contextvars.copy_context().run, args=(self._renew,), name=f"lease-{job_id}", daemon=True
        )

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _renew(self) -> None:
        runner = self._runner
        while not self._stop.wait(runner.renew_seconds):
            try:
                with runner.database.unit_of_work() as session:
                    held = runner.ledger.renew(session, self._job_id, self._owner)
            except Exception:  # noqa: BLE001 - a failed renewal is tried again; the lease outlasts a few misses
                logger.exception("lease renewal failed: trying again")
                continue
            if not held:
                logger.warning("lease lost: another delivery or the sweeper took the task over")
                return

