"""Waiting is not failing, and a dead worker is found: a task that sits in a backlog is never retried or
duplicated because of the wait; a worker killed mid-task (no cleanup, as after a Lambda timeout) loses its
lease, the sweeper fails its task and the state machine retries it with a fresh message."""

from __future__ import annotations

import time

import boto3
import pytest
from sqlalchemy import select

from storywink.db.tables import JobRun
from storywink.domain.enums import JobStatus, JobStep

FINAL = {"COMPLETED", "PARTIAL", "FAILED"}


@pytest.fixture
def sfn(stack):
    return boto3.client("stepfunctions", endpoint_url=stack.moto_endpoint, region_name="us-east-1")


def runs(session, book_id: str, step: JobStep) -> list[JobRun]:
    session.expire_all()
    return list(
        session.execute(
            select(JobRun).where(JobRun.book_id == book_id, JobRun.step == step).order_by(JobRun.started_at)
        ).scalars()
    )


def story_task_starts(sfn, stack, book_id: str) -> int:
    """How many story messages the execution sent (the first attempt plus every retry)."""
    arn = stack.resources.state_machines["BookGenerationStateMachine"]
    (execution,) = [e for e in sfn.list_executions(stateMachineArn=arn)["executions"] if e["name"].startswith(book_id)]
    history = sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"]
    return sum(
        1
        for event in history
        if event["type"] == "TaskScheduled" and "StoryQueue" in event["taskScheduledEventDetails"]["parameters"]
    )


def test_a_task_that_waits_in_the_queue_longer_than_any_lease_completes_without_a_retry(
    api, stack, sfn, sample_photos, session, paused
):
    parent = api("parent")
    book = parent.make_book(sample_photos[:2])
    with paused("StoryWorkerFunction"):
        parent("POST", f"/v1/books/{book['id']}/generate", 202)
        time.sleep(8)  # four leases and two sweeps go by while the message waits
        assert parent("GET", f"/v1/books/{book['id']}/status")["status"] == "GENERATING"
    assert parent.wait_for(book["id"], FINAL)["status"] == "COMPLETED"
    (story,) = runs(session, book["id"], JobStep.STORY)
    assert (story.status, story.attempt, story.deliveries) == (JobStatus.SUCCEEDED, 1, 1)
    assert story_task_starts(sfn, stack, book["id"]) == 1


def test_a_worker_killed_mid_task_is_found_by_the_sweeper_and_its_task_retried(
    api, stack, sfn, sample_photos, session, settings
):
    settings.set(CRASH_AT="story.after_provider", CRASH_KIND="kill", CRASH_TIMES="1")
    parent = api("parent")
    book = parent.make_book(sample_photos[:2])
    parent("POST", f"/v1/books/{book['id']}/generate", 202)
    assert parent.wait_for(book["id"], FINAL, timeout=60)["status"] == "COMPLETED"
    lost, retried = runs(session, book["id"], JobStep.STORY)
    assert (lost.status, lost.error_code, lost.attempt) == (JobStatus.FAILED, "Worker.Lost", 1)
    assert (retried.status, retried.attempt) == (JobStatus.SUCCEEDED, 2)
    assert story_task_starts(sfn, stack, book["id"]) == 2
