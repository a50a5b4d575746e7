"""Feature flags on the running local stack: flipping a flag in the stack's flags file changes what the
next generation does, without a restart."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from websockets.sync.client import connect

FINAL = {"COMPLETED", "PARTIAL", "FAILED"}


@pytest.fixture
def set_flag(stack) -> Iterator[Callable[[str, dict[str, Any]], None]]:
    """Replace one flag in the stack's flags file, as a developer would; the file is put back afterwards."""
    original = stack.flags_file.read_text()

    def replace(name: str, flag: dict[str, Any]) -> None:
        document = json.loads(stack.flags_file.read_text())
        stack.flags_file.write_text(json.dumps({**document, name: flag}, indent=2))
        stack.reconfigure()  # a fresh flag store: apply now rather than once the cached document is a few seconds old

    yield replace
    stack.flags_file.write_text(original)
    stack.reconfigure()


def messages_sent(stack, execution_arn: str) -> list[dict[str, Any]]:
    """The SendMessage parameters of every task the execution scheduled."""
    sfn = boto3.client("stepfunctions", endpoint_url=stack.moto_endpoint, region_name="us-east-1")
    history = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    scheduled = [e["taskScheduledEventDetails"] for e in history if e["type"] == "TaskScheduled"]
    return [json.loads(details["parameters"]) for details in scheduled]


def queues_used(stack, execution_arn: str) -> set[str]:
    return {message["QueueUrl"] for message in messages_sent(stack, execution_arn)}


def test_the_stack_serves_the_templates_flag_document(stack):
    from storywink.local.template import load_template, repo_root

    content = load_template(repo_root() / "template.yaml")["Resources"]["FeatureFlagsVersion"]["Properties"]["Content"]
    assert json.loads(stack.flags_file.read_text()) == json.loads(content)


def test_the_stack_reads_flags_from_its_file_not_from_appconfig(stack):
    appconfig = {"FEATURE_FLAGS_APPLICATION", "FEATURE_FLAGS_ENVIRONMENT", "FEATURE_FLAGS_PROFILE"}
    assert appconfig <= set(stack.resources.unresolved_environment)
    assert not appconfig & set(stack.resources.environment)
    assert os.environ["FEATURE_FLAGS_FILE"] == str(stack.flags_file)


def test_with_priority_queues_off_a_premium_parents_book_runs_on_the_standard_queues(
    api, stack, sample_photos, set_flag
):
    set_flag("priority_queues", {"default": False})
    premium = api("premium-parent")
    premium.http.headers["Authorization"] = f"Bearer {stack.mint_token('premium-parent', plan='premium')}"
    book = premium.make_book(sample_photos[:2])

    started = premium("POST", f"/v1/books/{book['id']}/generate", 202)
    assert premium.wait_for(book["id"], FINAL)["status"] == "COMPLETED"

    queues = stack.resources.queue_urls
    sent_to = queues_used(stack, started["executionArn"])
    assert {queues["StoryQueue"], queues["IllustrationQueue"]} <= sent_to
    assert not {queues["PriorityStoryQueue"], queues["PriorityIllustrationQueue"]} & sent_to
    # The queues follow the flag; the traces still say whose plan the book ran for, and which request.
    tasks = [message for message in messages_sent(stack, started["executionArn"]) if "taskToken" in message["MessageBody"]]
    assert {message["MessageBody"]["plan"] for message in tasks} == {"premium"}
    assert {message["MessageAttributes"]["correlationId"]["StringValue"] for message in tasks} == {
        tasks[0]["MessageBody"]["correlationId"]
    }


def test_with_live_pushes_off_a_subscriber_gets_its_snapshot_and_no_events(api, stack, sample_photos, set_flag):
    set_flag("live_pushes", {"default": False})
    parent = api("parent")
    book = parent.make_book(sample_photos[:2])
    with connect(f"{stack.websocket_url}/?token={stack.mint_token('parent')}", open_timeout=10) as socket:
        socket.send(json.dumps({"action": "subscribe", "bookId": book["id"]}))
        snapshot = json.loads(socket.recv(timeout=10))
        parent("POST", f"/v1/books/{book['id']}/generate", 202)
        assert parent.wait_for(book["id"], FINAL)["status"] == "COMPLETED"

        # Frames pushed during the generation would be waiting in the socket by now.
        with pytest.raises(TimeoutError):
            socket.recv(timeout=1)
    assert snapshot["type"] == "snapshot" and snapshot["status"] == "DRAFT"
