"""The step runner's rules, with fakes for the database, the job ledger and Step Functions (no PostgreSQL, no moto).

A step is claimed and prepared in one short transaction, performed with no transaction open, and recorded
in another only while this delivery still holds the task; the outcome goes to Step Functions afterwards.
"""

from __future__ import annotations

import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from storywink.domain.enums import JobStatus, JobStep
from storywink.pipeline.jobs import Claim, StepOutcome, TaskInFlight
from storywink.pipeline.messages import StoryTask
from storywink.pipeline.runner import BOOK_GONE, STALE_ATTEMPT, StepRunner
from storywink.providers.errors import ContentPolicyError, TransientProviderError


class FakeDatabase:
    """Units of work that only count how many are open."""

    def __init__(self) -> None:
        self.open = 0
        self.units = 0

    @contextmanager
    def unit_of_work(self):  # type: ignore[no-untyped-def]
        self.open += 1
        self.units += 1
        try:
            yield object()
        finally:
            self.open -= 1


@dataclass
class FakeJob:
    status: JobStatus = JobStatus.RUNNING
    owner: uuid.UUID | None = None
    output: dict[str, Any] | None = None
    error_code: str | None = None
    error_message: str | None = None
    released: bool = False


@dataclass
class FakeLedger:
    jobs: dict[str, FakeJob] = field(default_factory=dict)
    in_flight: bool = False
    superseded_task: bool = False
    renewals: int = 0
    lose_lease: bool = False
    book_gone: bool = False

    def lock_book(self, session, book_id) -> bool:  # type: ignore[no-untyped-def]
        return not self.book_gone

    def claim(self, session, *, step, task, page_id, message_id) -> Claim:  # type: ignore[no-untyped-def]
        job = self.jobs.get(task.task_token)
        if self.in_flight:
            return Claim(job_id=uuid.uuid4(), in_flight=True)
        if job is not None and job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
            return Claim(job_id=uuid.uuid4(), replay=job)  # type: ignore[arg-type]
        owner = uuid.uuid4()
        self.jobs[task.task_token] = FakeJob(owner=owner)
        self.token = task.task_token
        return Claim(job_id=uuid.uuid4(), owner=owner)

    def superseded(self, session, task) -> bool:  # type: ignore[no-untyped-def]
        return self.superseded_task

    def held(self, session, job_id, owner):  # type: ignore[no-untyped-def]
        job = self.jobs[self.token]
        return None if self.lose_lease or job.owner != owner else job

    def renew(self, session, job_id, owner) -> bool:  # type: ignore[no-untyped-def]
        self.renewals += 1
        return True

    def finish(self, job: FakeJob, status: JobStatus, *, outcome=None, error_code=None, error_message=None) -> None:  # type: ignore[no-untyped-def]
        job.status, job.error_code, job.error_message = status, error_code, error_message
        job.output = outcome.output if outcome is not None else None

    def keep_outcome(self, job: FakeJob, outcome: StepOutcome) -> None:
        job.output = outcome.output

    def release(self, session, job_id, owner, error_message) -> None:  # type: ignore[no-untyped-def]
        self.jobs[self.token].released = True


class FakeCallbacks:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []

    def success(self, token: str, output: dict) -> bool:
        self.sent.append(("success", token, output))
        return True

    def failure(self, token: str, error: str, cause: str) -> bool:
        self.sent.append(("failure", token, error))
        return True


class FakeStep:
    kind = JobStep.STORY

    def __init__(
        self,
        database: FakeDatabase,
        *,
        done_at_once: bool = False,
        fails_with: Exception | None = None,
        takes: float = 0.0,
        then: Any = None,
    ) -> None:
        self.database = database
        self.then = then
        self.done_at_once = done_at_once
        self.fails_with = fails_with
        self.takes = takes
        self.calls: list[str] = []
        self.open_while_performing: int | None = None
        self.recorded_errors: list[Exception] = []

    def prepare(self, session, task):  # type: ignore[no-untyped-def]
        self.calls.append("prepare")
        return StepOutcome(output={"settled": True}) if self.done_at_once else {"plan": task.book_id}

    def perform(self, plan):  # type: ignore[no-untyped-def]
        self.calls.append("perform")
        self.open_while_performing = self.database.open
        time.sleep(self.takes)
        if self.then is not None:
            self.then()
        if self.fails_with is not None:
            raise self.fails_with
        return "drawn"

    def record(self, session, task, plan, result):  # type: ignore[no-untyped-def]
        self.calls.append("record")
        return StepOutcome(output={"result": result})

    def record_error(self, session, task, error) -> None:  # type: ignore[no-untyped-def]
        self.recorded_errors.append(error)


@dataclass
class Rig:
    database: FakeDatabase = field(default_factory=FakeDatabase)
    ledger: FakeLedger = field(default_factory=FakeLedger)
    callbacks: FakeCallbacks = field(default_factory=FakeCallbacks)
    renew_seconds: float = 60.0  # no renewal unless a test asks for one

    @property
    def runner(self) -> StepRunner:
        return StepRunner(self.database, self.ledger, self.callbacks, renew_seconds=self.renew_seconds)  # type: ignore[arg-type]

    def step(self, **behaviour: Any) -> FakeStep:
        return FakeStep(self.database, **behaviour)


@pytest.fixture
def rig() -> Rig:
    return Rig()


def task(token: str = "token-1") -> StoryTask:
    return StoryTask(task_token=token, book_id=uuid.uuid4())


def test_a_task_is_prepared_performed_and_recorded_then_reported(rig):
    step = rig.step()
    rig.runner.run(step, task(), message_id="m-1")
    assert step.calls == ["prepare", "perform", "record"]
    assert rig.ledger.jobs["token-1"].status == JobStatus.SUCCEEDED
    assert rig.callbacks.sent == [("success", "token-1", {"result": "drawn"})]


def test_the_slow_work_runs_with_no_unit_of_work_open(rig):
    step = rig.step()
    rig.runner.run(step, task(), message_id="m-1")
    assert step.open_while_performing == 0
    assert rig.database.units == 2  # one to claim and prepare, one to record


def test_the_lease_is_renewed_while_the_work_runs(rig):
    rig.renew_seconds = 0.01
    rig.runner.run(rig.step(takes=0.1), task(), message_id="m-1")
    assert rig.ledger.renewals >= 2


def test_a_step_settled_at_prepare_reports_without_performing(rig):
    step = rig.step(done_at_once=True)
    rig.runner.run(step, task(), message_id="m-1")
    assert step.calls == ["prepare"]
    assert rig.callbacks.sent == [("success", "token-1", {"settled": True})]


def test_a_second_delivery_reports_the_recorded_outcome_without_redoing_the_work(rig):
    rig.runner.run(rig.step(), task(), message_id="m-1")
    again = rig.step()
    rig.runner.run(again, task(), message_id="m-1")
    assert again.calls == []
    assert rig.callbacks.sent[-1] == ("success", "token-1", {"result": "drawn"})


def test_a_copy_refused_while_another_holds_the_task_reports_nothing(rig):
    rig.ledger.in_flight = True
    step = rig.step()
    with pytest.raises(TaskInFlight):
        rig.runner.run(step, task(), message_id="m-2")
    assert step.calls == [] and rig.callbacks.sent == []


def test_a_superseded_task_is_failed_as_stale_without_work(rig):
    rig.ledger.superseded_task = True
    step = rig.step()
    rig.runner.run(step, task(), message_id="m-1")
    assert step.calls == []
    assert rig.callbacks.sent == [("failure", "token-1", STALE_ATTEMPT)]


def test_a_task_of_a_deleted_book_is_dropped_without_work_or_a_claim_and_not_retried(rig):
    rig.ledger.book_gone = True
    step = rig.step()
    rig.runner.run(step, task(), message_id="m-1")  # returns: the message is done with, not redelivered
    assert step.calls == [] and rig.ledger.jobs == {}
    assert rig.callbacks.sent == [("failure", "token-1", BOOK_GONE)]


@pytest.mark.parametrize("error", [ContentPolicyError("refused"), TransientProviderError("busy")])
def test_a_provider_error_is_recorded_and_reported_for_the_state_machine_to_route(rig, error):
    step = rig.step(fails_with=error)
    rig.runner.run(step, task(), message_id="m-1")
    assert step.recorded_errors == [error]
    assert (rig.ledger.jobs["token-1"].status, rig.ledger.jobs["token-1"].error_code) == (JobStatus.FAILED, error.error_name)
    assert rig.callbacks.sent == [("failure", "token-1", error.error_name)]


def test_a_crash_releases_the_task_and_reports_nothing(rig):
    with pytest.raises(RuntimeError):
        rig.runner.run(rig.step(fails_with=RuntimeError("boom")), task(), message_id="m-1")
    assert rig.ledger.jobs["token-1"].released and rig.ledger.jobs["token-1"].status == JobStatus.RUNNING
    assert rig.callbacks.sent == []


def test_a_result_that_arrives_after_the_lease_was_lost_changes_and_reports_nothing(rig):
    step = rig.step(then=lambda: setattr(rig.ledger, "lose_lease", True))  # taken over while it worked
    rig.runner.run(step, task(), message_id="m-1")
    assert "record" not in step.calls
    assert rig.callbacks.sent == []


def test_the_renewals_stop_when_the_work_ends(rig):
    rig.renew_seconds = 0.01
    rig.runner.run(rig.step(takes=0.05), task(), message_id="m-1")
    before = rig.ledger.renewals
    time.sleep(0.05)
    assert rig.ledger.renewals == before
    assert not [t for t in threading.enumerate() if t.name.startswith("lease-")]


class RecordingSegments:
    """A tracing provider that keeps each subsegment's name and annotations (what X-Ray would get)."""

    def __init__(self) -> None:
        self.segments: list[tuple[str, dict[str, Any]]] = []

    @contextmanager
    def in_subsegment(self, name=None, **kwargs):  # type: ignore[no-untyped-def]
        annotations: dict[str, Any] = {}
        self.segments.append((name, annotations))
        yield type("Segment", (), {"put_annotation": lambda _self, key, value: annotations.__setitem__(key, value)})()


def test_a_step_is_traced_with_its_book_page_step_plan_and_correlation_ids_only(rig, monkeypatch):
    from storywink.pipeline import runner as runner_module

    recording = RecordingSegments()
    monkeypatch.setattr(runner_module.tracer, "provider", recording)
    message = StoryTask.model_validate(
        {"taskToken": "token-1", "bookId": str(uuid.uuid4()), "correlationId": "corr-1", "plan": "premium"}
    )
    page_id = uuid.uuid4()

    rig.runner.run(rig.step(), message, message_id="m-1", page_id=page_id)

    (step_name, annotations), (work_name, _) = recording.segments
    assert (step_name, work_name) == ("## story step", "## story work")
    assert annotations == {
        "bookId": str(message.book_id),
        "correlationId": "corr-1",
        "step": "STORY",
        "plan": "premium",
        "pageId": str(page_id),
    }
