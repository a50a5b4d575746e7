"""Scheduled starts on the embedded PostgreSQL and moto: POST /generate with startAt makes a one-time
EventBridge Scheduler schedule, the local scheduler fires it when due through the scheduled-start function,
and the start is the immediate generate's own (charged when it starts, once, and never after a cancel)."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from storywink.local.lambda_runtime import LocalLambdaContext, load_handler
from storywink.local.runtime import FastRuntime
from storywink.local.scheduler import OneTimeSchedules, ScheduleTarget
from storywink.local.template import repo_root
from storywink.services.scheduled_starts import at_expression, whole_second_after

GROUP = "storywink-test-scheduled-starts"
TARGET_ARN = "arn:aws:lambda:us-east-1:123456789012:function:storywink-test-ScheduledStartFunction"
ROLE_ARN = "arn:aws:iam::123456789012:role/storywink-test-SchedulerInvokeRole"
DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})


@pytest.fixture
def pipeline(reconfigure):
    """A state machine (moto records its executions) and a schedule group, and the API configured for both."""
    sfn = boto3.client("stepfunctions")
    arn = sfn.create_state_machine(
        name=f"books-{uuid.uuid4().hex[:8]}", definition=DEFINITION, roleArn="arn:aws:iam::123456789012:role/sfn"
    )["stateMachineArn"]
    scheduler = boto3.client("scheduler")
    if GROUP not in [g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]]:
        scheduler.create_schedule_group(Name=GROUP)
    reconfigure(
        STATE_MACHINE_ARN=arn,
        SCHEDULE_GROUP_NAME=GROUP,
        SCHEDULE_TARGET_ARN=TARGET_ARN,
        SCHEDULE_ROLE_ARN=ROLE_ARN,
        GENERATION_QUOTA_FREE_PER_DAY=1,
    )
    yield arn
    for schedule in scheduler.list_schedules(GroupName=GROUP)["Schedules"]:
        scheduler.delete_schedule(GroupName=GROUP, Name=schedule["Name"])


@pytest.fixture
def executions(pipeline):
    sfn = boto3.client("stepfunctions")
    return lambda: sfn.list_executions(stateMachineArn=pipeline)["executions"]


@pytest.fixture
def fire():
    """The scheduled-start function as the template's handler, invoked with a schedule's input."""
    handler = load_handler(repo_root() / "functions", "scheduled_start.handler")
    return lambda event: handler(event, LocalLambdaContext("ScheduledStartFunction"))


@pytest.fixture
def local_scheduler():
    """The local stack's one-time scheduler over the test's group, invoking the scheduled-start function."""
    handler = load_handler(repo_root() / "functions", "scheduled_start.handler")
    target = ScheduleTarget("ScheduledStartFunction", handler, 30)
    return OneTimeSchedules(boto3.client("scheduler"), [GROUP], lambda arn: target if arn == TARGET_ARN else None, FastRuntime())


def later(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


def schedule(client, auth, book_id: str, start_at: str, user: str = "alice", **headers):
    return client.post(f"/v1/books/{book_id}/generate", json={"startAt": start_at}, headers={**auth(user), **headers})


def the_schedule(book_id: str) -> dict:
    scheduler = boto3.client("scheduler")
    (listed,) = [s for s in scheduler.list_schedules(GroupName=GROUP)["Schedules"] if book_id in s["Name"]]
    return scheduler.get_schedule(GroupName=GROUP, Name=listed["Name"])


def generations_used(client, auth, user: str = "alice") -> int:
    return client.get("/v1/me/usage", headers=auth(user)).json()["generations"]["used"]


def test_a_scheduled_start_makes_a_one_time_schedule_and_shows_on_the_book(client, auth, book_with_photos, pipeline, executions):
    book = book_with_photos(1)
    start_at = later(3600)

    response = schedule(client, auth, book["id"], start_at)

    assert response.status_code == 202, response.text
    moment = whole_second_after(datetime.fromisoformat(start_at))
    assert response.json() == {"bookId": book["id"], "status": "DRAFT", "scheduledStartAt": moment.isoformat().replace("+00:00", "Z")}
    made = the_schedule(book["id"])
    assert made["ScheduleExpression"] == at_expression(moment) and made["ScheduleExpressionTimezone"] == "UTC"
    assert made["ActionAfterCompletion"] == "DELETE"
    assert made["Target"]["Arn"] == TARGET_ARN and made["Target"]["RoleArn"] == ROLE_ARN
    assert json.loads(made["Target"]["Input"])["bookId"] == book["id"]
    shown = client.get(f"/v1/books/{book['id']}", headers=auth()).json()
    assert shown["status"] == "DRAFT" and datetime.fromisoformat(shown["scheduledStartAt"]) == moment
    assert datetime.fromisoformat(client.get(f"/v1/books/{book['id']}/status", headers=auth()).json()["scheduledStartAt"]) == moment
    assert executions() == [] and generations_used(client, auth) == 0  # nothing started, nothing charged


def test_the_local_scheduler_starts_the_generation_at_its_time_and_not_before(
    client, auth, book_with_photos, pipeline, executions, local_scheduler
):
    book = book_with_photos(1)
    assert schedule(client, auth, book["id"], later(2)).status_code == 202
    due = datetime.fromisoformat(client.get(f"/v1/books/{book['id']}", headers=auth()).json()["scheduledStartAt"])

    assert local_scheduler.fire_due() == 0  # not yet
    assert executions() == []
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 0.1)
    assert local_scheduler.fire_due() == 1

    (execution,) = executions()
    assert execution["name"] == f"{book['id']}-1" and execution["startDate"] >= due
    shown = client.get(f"/v1/books/{book['id']}", headers=auth()).json()
    assert shown["status"] == "GENERATING" and shown["scheduledStartAt"] is None
    assert "scheduledStartAt" not in client.get(f"/v1/books/{book['id']}/status", headers=auth()).json()
    assert generations_used(client, auth) == 1  # charged when it started
    assert boto3.client("scheduler").list_schedules(GroupName=GROUP)["Schedules"] == []  # ActionAfterCompletion
    assert local_scheduler.fire_due() == 0


def test_a_duplicate_fire_starts_nothing_twice(client, auth, book_with_photos, pipeline, executions, fire):
    book = book_with_photos(1)
    assert schedule(client, auth, book["id"], later(3600)).status_code == 202
    event = json.loads(the_schedule(book["id"])["Target"]["Input"])

    assert fire(event) == {"outcome": "started"}
    assert fire(event) == {"outcome": "stale"}

    assert len(executions()) == 1 and generations_used(client, auth) == 1


def test_a_cancelled_start_never_starts_even_if_its_schedule_fires(
    client, auth, book_with_photos, pipeline, executions, fire, local_scheduler
):
    book = book_with_photos(1)
    assert schedule(client, auth, book["id"], later(1)).status_code == 202
    event = json.loads(the_schedule(book["id"])["Target"]["Input"])

    response = client.delete(f"/v1/books/{book['id']}/schedule", headers=auth())

    assert response.status_code == 204
    assert boto3.client("scheduler").list_schedules(GroupName=GROUP)["Schedules"] == []
    time.sleep(1.2)
    assert local_scheduler.fire_due() == 0
    assert fire(event) == {"outcome": "stale"}  # a fire already on its way when the schedule went
    assert executions() == [] and generations_used(client, auth) == 0
    assert client.get(f"/v1/books/{book['id']}", headers=auth()).json()["scheduledStartAt"] is None


def test_cancelling_a_book_without_a_scheduled_start_is_404(client, auth, book_with_photos, pipeline):
    book = book_with_photos(1)

    response = client.delete(f"/v1/books/{book['id']}/schedule", headers=auth())

    assert response.status_code == 404 and response.json()["error"]["code"] == "SCHEDULE_NOT_FOUND"
    assert client.delete(f"/v1/books/{uuid.uuid4()}/schedule", headers=auth()).json()["error"]["code"] == "BOOK_NOT_FOUND"


def test_a_start_now_replaces_the_one_asked_for_later(client, auth, book_with_photos, pipeline, executions, fire):
    book = book_with_photos(1)
    assert schedule(client, auth, book["id"], later(3600)).status_code == 202
    event = json.loads(the_schedule(book["id"])["Target"]["Input"])

    assert client.post(f"/v1/books/{book['id']}/generate", headers=auth()).status_code == 202

    assert boto3.client("scheduler").list_schedules(GroupName=GROUP)["Schedules"] == []
    assert fire(event) == {"outcome": "stale"}
    assert len(executions()) == 1


def test_a_scheduled_start_over_the_quota_at_its_time_is_refused_and_recorded(
    client, auth, book_with_photos, pipeline, executions, fire
):
    first, second = book_with_photos(1), book_with_photos(1)
    assert schedule(client, auth, second["id"], later(3600)).status_code == 202  # costs nothing yet
    event = json.loads(the_schedule(second["id"])["Target"]["Input"])
    assert client.post(f"/v1/books/{first['id']}/generate", headers=auth()).status_code == 202  # the day's one

    assert fire(event) == {"outcome": "refused"}

    shown = client.get(f"/v1/books/{second['id']}", headers=auth()).json()
    assert shown["status"] == "DRAFT" and shown["scheduledStartAt"] is None
    assert [e["name"] for e in executions()] == [f"{first['id']}-1"]
    assert generations_used(client, auth) == 1


def test_an_idempotent_repeat_of_a_scheduled_start_replays_without_a_second_schedule(client, auth, book_with_photos, pipeline):
    book = book_with_photos(1)
    start_at = later(3600)
    first = schedule(client, auth, book["id"], start_at, **{"Idempotency-Key": "later-1"})

    repeat = schedule(client, auth, book["id"], start_at, **{"Idempotency-Key": "later-1"})

    assert repeat.status_code == 202 and repeat.json() == first.json()
    assert repeat.headers["Idempotent-Replayed"] == "true"
    assert len(boto3.client("scheduler").list_schedules(GroupName=GROUP)["Schedules"]) == 1


def test_a_second_schedule_for_the_same_book_is_409(client, auth, book_with_photos, pipeline):
    book = book_with_photos(1)
    assert schedule(client, auth, book["id"], later(3600)).status_code == 202

    response = schedule(client, auth, book["id"], later(7200))

    assert response.status_code == 409 and response.json()["error"]["code"] == "GENERATION_ALREADY_SCHEDULED"


@pytest.mark.parametrize(
    ("start_at", "code"),
    [
        (lambda: later(-60), "START_AT_NOT_IN_FUTURE"),
        (lambda: later(31 * 24 * 3600), "START_AT_TOO_FAR"),
        (lambda: (datetime.now(UTC) + timedelta(hours=1)).replace(tzinfo=None).isoformat(), "VALIDATION_FAILED"),
        (lambda: "tomorrow at nine", "VALIDATION_FAILED"),
    ],
    ids=["past", "beyond-30-days", "no-offset", "not-a-time"],
)
def test_a_start_at_that_is_not_a_future_time_within_the_bound_is_422(client, auth, book_with_photos, pipeline, executions, start_at, code):
    book = book_with_photos(1)

    response = schedule(client, auth, book["id"], start_at())

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == code and "startAt" in error["details"][0]["field"]
    assert boto3.client("scheduler").list_schedules(GroupName=GROUP)["Schedules"] == [] and executions() == []


def test_a_book_that_could_not_start_now_cannot_be_scheduled(client, auth, new_book, pipeline):
    book = new_book()

    response = schedule(client, auth, book["id"], later(3600))

    assert response.status_code == 422 and response.json()["error"]["code"] == "BOOK_HAS_NO_PHOTOS"
