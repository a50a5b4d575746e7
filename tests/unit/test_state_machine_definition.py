"""statemachine/book_generation.asl.json, substituted with the template's defaults: a graph with no dead ends."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from storywink.local.template import load_template, repo_root

ROOT = repo_root()
TEMPLATE = load_template(ROOT / "template.yaml")
PROPERTIES = TEMPLATE["Resources"]["BookGenerationStateMachine"]["Properties"]
TRANSIENT_ERRORS = {"Provider.Transient", "Worker.Lost", "States.Timeout"}
NEVER_RETRIED = {"Provider.ContentPolicy", "Provider.Permanent"}
TERMINAL_TYPES = {"Succeed", "Fail"}


def sample_substitutions() -> dict[str, str]:
    """Parameter defaults for parameter references; a sample queue URL for everything else."""
    parameters = TEMPLATE["Parameters"]
    values = {}
    for key, value in PROPERTIES["DefinitionSubstitutions"].items():
        parameter = parameters.get(value.get("Ref")) if isinstance(value, dict) else None
        if parameter is not None:
            values[key] = str(parameter["Default"])
        else:
            values[key] = f"https://sqs.us-east-1.amazonaws.com/123456789012/{key}"
    return values


def load_definition() -> dict:
    text = (ROOT / PROPERTIES["DefinitionUri"]).read_text(encoding="utf-8")
    values = sample_substitutions()
    return json.loads(re.sub(r"\$\{(\w+)\}", lambda match: values[match.group(1)], text))


DEFINITION = load_definition()


def machines(definition: dict = DEFINITION, where: str = "top level") -> Iterator[tuple[str, dict]]:
    """The top-level machine and every nested one (Map processors, Parallel branches)."""
    yield where, definition
    for name, state in definition["States"].items():
        nested = [state[key] for key in ("ItemProcessor", "Iterator") if key in state]
        nested += state.get("Branches", [])
        for machine in nested:
            yield from machines(machine, f"{where} > {name}")


def all_states() -> Iterator[tuple[str, dict]]:
    for _, machine in machines():
        yield from machine["States"].items()


def transitions(state: dict) -> list[str]:
    targets = [state[key] for key in ("Next", "Default") if key in state]
    targets += [choice["Next"] for choice in state.get("Choices", [])]
    targets += [catch["Next"] for catch in state.get("Catch", [])]
    return targets


def by_name(pairs) -> list:
    return [pytest.param(name, value, id=name) for name, value in pairs]


def callback_tasks() -> list[tuple[str, dict]]:
    return [
        (name, state)
        for name, state in all_states()
        if state["Type"] == "Task" and state["Resource"].endswith(".waitForTaskToken")
    ]


def illustration_map() -> dict:
    (state,) = [state for _, state in all_states() if state["Type"] == "Map"]
    return state


@pytest.mark.parametrize("where,machine", by_name(machines()))
def test_every_machine_starts_at_an_existing_state(where, machine):
    assert machine["StartAt"] in machine["States"], where


@pytest.mark.parametrize("where,machine", by_name(machines()))
def test_every_transition_targets_an_existing_state(where, machine):
    for name, state in machine["States"].items():
        for target in transitions(state):
            assert target in machine["States"], f"{where}: {name} -> {target}"


def flow_states() -> Iterator[tuple[str, dict]]:
    """States that must say where to go next: all but Choice (it has Choices) and Succeed / Fail."""
    return ((name, state) for name, state in all_states() if state["Type"] not in TERMINAL_TYPES | {"Choice"})


@pytest.mark.parametrize("name,state", by_name(flow_states()))
def test_every_non_terminal_state_has_next_or_end(name, state):
    assert ("Next" in state) != (state.get("End") is True), name


@pytest.mark.parametrize("name,state", by_name(callback_tasks()))
def test_callback_task_has_no_heartbeat_so_waiting_in_a_backlog_is_never_a_failure(name, state):
    # A callback task's heartbeat clock starts when the message is sent, not when a worker takes it.
    assert "HeartbeatSeconds" not in state and "HeartbeatSecondsPath" not in state, name


@pytest.mark.parametrize("name,state", by_name(callback_tasks()))
def test_callback_task_timeout_outlasts_a_day_of_backlog(name, state):
    assert isinstance(state["TimeoutSeconds"], int), name
    assert state["TimeoutSeconds"] >= 24 * 3600, name


@pytest.mark.parametrize("name,state", by_name(callback_tasks()))
def test_callback_task_retries_transient_errors_with_full_jitter_and_a_capped_delay(name, state):
    (retry,) = [retry for retry in state["Retry"] if "Provider.Transient" in retry["ErrorEquals"]]

    assert TRANSIENT_ERRORS <= set(retry["ErrorEquals"])
    assert retry["JitterStrategy"] == "FULL"
    assert retry["MaxDelaySeconds"] >= retry["IntervalSeconds"]
    assert retry["MaxAttempts"] >= 1


@pytest.mark.parametrize("name,state", by_name(callback_tasks()))
def test_callback_task_catches_every_error(name, state):
    assert any(catch["ErrorEquals"] == ["States.ALL"] for catch in state["Catch"]), name


@pytest.mark.parametrize("name,state", by_name(callback_tasks()))
def test_callback_message_carries_the_task_token_the_correlation_id_and_the_plan(name, state):
    body = state["Parameters"]["MessageBody"]

    assert body["taskToken.$"] == "$$.Task.Token"
    assert body["correlationId.$"] == "$.correlationId"
    assert body["plan.$"] == "$.plan"
    assert body["retryCount.$"] == "$$.State.RetryCount"
    attribute = state["Parameters"]["MessageAttributes"]["correlationId"]
    assert attribute == {"DataType": "String", "StringValue.$": "$.correlationId"}


def test_no_retry_covers_content_policy_or_permanent_errors():
    for name, state in all_states():
        for retry in state.get("Retry", []):
            assert not NEVER_RETRIED & set(retry["ErrorEquals"]), name
            assert "States.ALL" not in retry["ErrorEquals"], name


def test_every_catch_keeps_the_input_and_puts_the_error_beside_it():
    for name, state in all_states():
        for catch in state.get("Catch", []):
            assert catch.get("ResultPath", "$") not in {"$", None}, name


def test_illustration_map_limits_its_concurrency():
    assert illustration_map()["MaxConcurrency"] >= 1


def test_illustration_map_tolerates_failures_by_catching_inside_its_iterator():
    state = illustration_map()
    processor = state.get("ItemProcessor") or state["Iterator"]
    tasks = [task for task in processor["States"].values() if task["Type"] == "Task"]

    assert "ToleratedFailurePercentage" not in state  # unsupported by moto; the Catch does the job
    assert tasks and all(any("States.ALL" in catch["ErrorEquals"] for catch in task.get("Catch", [])) for task in tasks)


def test_every_top_level_path_ends_in_succeed_or_fail():
    states = DEFINITION["States"]
    reachable, pending = set(), [DEFINITION["StartAt"]]
    while pending:
        name = pending.pop()
        if name not in reachable:
            reachable.add(name)
            pending.extend(transitions(states[name]))

    finishing = {name for name in reachable if states[name]["Type"] in TERMINAL_TYPES}
    grown = True
    while grown:  # states from which some path reaches a Succeed or Fail
        more = {name for name in reachable - finishing if set(transitions(states[name])) & finishing}
        finishing |= more
        grown = bool(more)

    assert not [name for name in reachable if states[name].get("End")], "End outside a Succeed/Fail"
    assert all("Default" in states[name] for name in reachable if states[name]["Type"] == "Choice")
    assert reachable == finishing, f"no way to Succeed/Fail from {reachable - finishing}"
    assert reachable == set(states), f"unreachable: {set(states) - reachable}"
