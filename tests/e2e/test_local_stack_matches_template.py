"""The local stack is derived from template.yaml and the ASL file: check what it built against them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import boto3
import pytest

from storywink.local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES = TEMPLATE["Resources"]
QUEUES = sorted(name for name, spec in RESOURCES.items() if spec["Type"] == "AWS::SQS::Queue")
WORKERS = {
    name: spec
    for name, spec in RESOURCES.items()
    if spec["Type"] == "AWS::Serverless::Function"
    and any(e["Type"] == "SQS" for e in spec["Properties"].get("Events", {}).values())
}


def as_attribute(value: object) -> str:
    """A template property as SQS spells the attribute (booleans in lower case)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


@pytest.fixture(scope="module")
def sqs(stack):
    return boto3.client("sqs", endpoint_url=stack.moto_endpoint, region_name="us-east-1")


def test_every_template_queue_exists_locally(stack):
    assert sorted(stack.resources.queue_urls) == QUEUES


@pytest.mark.parametrize("queue", QUEUES)
def test_queue_attributes_match_the_template(stack, sqs, queue):
    expected = RESOURCES[queue]["Properties"]
    actual = sqs.get_queue_attributes(QueueUrl=stack.resources.queue_urls[queue], AttributeNames=["All"])["Attributes"]
    for attribute in ("VisibilityTimeout", "MessageRetentionPeriod"):
        if attribute in expected:
            assert int(actual[attribute]) == int(expected[attribute])
    # FIFO queues (the push fan-out) keep their ordering and deduplication settings.
    assert actual.get("FifoQueue", "false") == as_attribute(expected.get("FifoQueue", False))
    for attribute in ("ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"):
        if attribute in expected:
            assert actual[attribute] == as_attribute(expected[attribute])
    if "RedrivePolicy" in expected:
        policy = json.loads(actual["RedrivePolicy"])
        dead_letter_queue = expected["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert policy["deadLetterTargetArn"] == stack.resources.queue_arns[dead_letter_queue]
        assert int(policy["maxReceiveCount"]) == int(expected["RedrivePolicy"]["maxReceiveCount"])
    else:
        assert "RedrivePolicy" not in actual


def test_every_sqs_event_source_has_a_poller_with_the_templates_settings(stack):
    expected = {
        (name, event["Queue"]["Fn::GetAtt"][0]): (spec, event)
        for name, spec in WORKERS.items()
        for event in (e["Properties"] for e in spec["Properties"]["Events"].values() if e["Type"] == "SQS")
    }
    pollers = {(p.mapping.function_name, p.mapping.queue_logical_id): p for p in stack.pollers}
    assert sorted(pollers) == sorted(expected)
    for key, (spec, event) in expected.items():
        mapping = pollers[key].mapping
        assert mapping.handler == spec["Properties"]["Handler"]
        assert mapping.batch_size == event["BatchSize"]
        assert mapping.report_batch_item_failures == ("ReportBatchItemFailures" in event["FunctionResponseTypes"])
        concurrency = event["ScalingConfig"]["MaximumConcurrency"]
        if isinstance(concurrency, dict):  # a parameter the local stack leaves at its default
            concurrency = TEMPLATE["Parameters"][concurrency["Ref"]]["Default"]
        assert mapping.maximum_concurrency == concurrency
        assert mapping.timeout_seconds == spec["Properties"].get("Timeout", TEMPLATE["Globals"]["Function"]["Timeout"])


def test_state_machine_runs_the_definition_file_with_the_templates_substitutions(stack):
    spec = RESOURCES["BookGenerationStateMachine"]["Properties"]
    arn = stack.resources.state_machines["BookGenerationStateMachine"]
    sfn = boto3.client("stepfunctions", endpoint_url=stack.moto_endpoint, region_name="us-east-1")
    deployed = json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])
    raw = (ROOT / spec["DefinitionUri"]).read_text()
    placeholders = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", raw))
    assert placeholders == set(spec["DefinitionSubstitutions"])
    # Same states and transitions as the file; each queue URL placeholder became the local queue's URL.
    skeleton = json.loads(re.sub(r"\$\{[A-Za-z0-9_]+\}", "0", raw))
    assert set(deployed["States"]) == set(skeleton["States"])
    queues = stack.resources.queue_urls
    assert deployed["States"]["UseStandardQueues"]["Result"] == {
        "story": queues["StoryQueue"], "illustration": queues["IllustrationQueue"],
    }
    assert deployed["States"]["UsePriorityQueues"]["Result"] == {
        "story": queues["PriorityStoryQueue"], "illustration": queues["PriorityIllustrationQueue"],
    }


def test_function_environment_comes_from_the_template(stack):
    assert stack.resources.environment["STATE_MACHINE_ARN"] == stack.resources.state_machines["BookGenerationStateMachine"]
    assert stack.resources.environment["MEDIA_BUCKET"] == stack.resources.buckets["MediaBucket"]
    assert stack.resources.environment["POWERTOOLS_SERVICE_NAME"] == "storywink"
