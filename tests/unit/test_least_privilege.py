"""Least privilege, checked on what CloudFormation will see: the template after the SAM transform, so the
roles SAM generates (its policy templates, the managed policies it attaches) are checked as deployed.

No IAM grant may use a `*` resource or a wildcard action unless the allow-lists below say why AWS leaves
no narrower choice; service principals in resource policies are pinned to this account (no confused
deputy); and each function reaches only the S3 keys its code touches (storywink.storage.keys)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

# Actions AWS authorises only on Resource "*": the Service Authorization Reference lists no resource
# types for them.
STAR_RESOURCE_ACTIONS = {
    "states:SendTaskSuccess": "the task token names the execution; no resource types",
    "states:SendTaskFailure": "the task token names the execution; no resource types",
    "cloudwatch:GetMetricStatistics": "CloudWatch metric reads have no resource types (the queue dashboard)",
    # The state machine's log delivery to CloudWatch Logs (vended logs).
    "logs:CreateLogDelivery": "vended log delivery; no resource types",
    "logs:GetLogDelivery": "vended log delivery; no resource types",
    "logs:UpdateLogDelivery": "vended log delivery; no resource types",
    "logs:DeleteLogDelivery": "vended log delivery; no resource types",
    "logs:ListLogDeliveries": "vended log delivery; no resource types",
    "logs:PutResourcePolicy": "vended log delivery; no resource types",
    "logs:DescribeResourcePolicies": "vended log delivery; no resource types",
    "logs:DescribeLogGroups": "vended log delivery; lists every group",
    # The uptime canary's own run metrics (capped by a cloudwatch:namespace condition to CloudWatchSynthetics).
    "cloudwatch:PutMetricData": "metric writes have no resource types; the statement's condition names the namespace",
}
# Wildcard actions, where a statement may have one.
WILDCARD_ACTIONS = {
    "kms:*": "the key policy's administrator statement (the account root, as AWS's default key policy), so IAM governs the key",
    "kms:GenerateDataKey*": "what SNS's guide grants CloudWatch on an encrypted topic's key (pinned to this account's alarms)",
}
# AWS managed policies SAM attaches to the roles it generates.
AWS_MANAGED_POLICIES = {
    "service-role/AWSLambdaBasicExecutionRole": "CloudWatch Logs for the function's own log stream",
    "service-role/AWSLambdaVPCAccessExecutionRole": "the ENIs of a function in the VPC (ec2 network interface actions take Resource *)",
    "AWSXrayWriteOnlyAccess": "Tracing: Active (xray:PutTraceSegments and friends take Resource *)",
    "service-role/AWSLambdaSQSQueueExecutionRole": "SQS event sources; capped at this stack's queues by FunctionPermissionsBoundary",
    "service-role/AWSCodeDeployRoleForLambda": "the CodeDeploy role SAM makes for DeploymentPreference (alias shifts, alarm reads)",
}
MEDIA_OBJECT_ARN = "arn:${AWS::Partition}:s3:::${MediaBucket}/"
FUNCTIONS_WITHOUT_S3 = [
    "FinalizeWorkerFunction", "DeadLetterHandlerFunction", "LeaseSweeperFunction", "PushFanoutFunction",
    "DatabaseMigrationFunction", "WsConnectFunction", "WsDisconnectFunction", "WsSubscribeFunction",
]


@pytest.fixture(scope="module")
def resources(transformed_template_path: Path) -> dict[str, Any]:
    return json.loads(transformed_template_path.read_text())["Resources"]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def branches(value: Any) -> list[Any]:
    """Both outcomes of an Fn::If (a NoValue branch is nothing), else the value itself."""
    if isinstance(value, dict) and "Fn::If" in value:
        return [v for branch in value["Fn::If"][1:] for v in branches(branch)]
    if value == {"Ref": "AWS::NoValue"}:
        return []
    return [value]


def arn_text(value: Any) -> str:
    """A resource as text: a Sub's template, a GetAtt or Ref by name (the statement's resources are compared by it)."""
    if isinstance(value, str):
        return value
    if "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return sub if isinstance(sub, str) else sub[0]
    if "Fn::GetAtt" in value:
        return "GetAtt:" + ".".join(as_list(value["Fn::GetAtt"]))
    if "Ref" in value:
        return "Ref:" + value["Ref"]
    return json.dumps(value)


def role_statements(resources: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """Every statement a role grants: its inline policies and the template's managed policies it attaches."""
    properties = resources[role]["Properties"]
    documents = [policy["PolicyDocument"] for entry in properties.get("Policies", []) for policy in branches(entry)]
    for arn in properties.get("ManagedPolicyArns", []):
        if isinstance(arn, dict) and "Ref" in arn:
            documents.append(resources[arn["Ref"]]["Properties"]["PolicyDocument"])
    return [statement for document in documents for statement in as_list(document["Statement"])]


def boundaries(resources: dict[str, Any]) -> set[str]:
    return {
        spec["Properties"]["PermissionsBoundary"]["Ref"]
        for spec in resources.values()
        if spec["Type"] == "AWS::IAM::Role" and "PermissionsBoundary" in spec["Properties"]
    }


def identity_documents(resources: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every identity policy that grants something (a permissions boundary grants nothing)."""
    capped = boundaries(resources)
    documents = []
    for name, spec in resources.items():
        properties = spec.get("Properties", {})
        if spec["Type"] == "AWS::IAM::Role":
            for entry in properties.get("Policies", []):
                documents += [(name, policy["PolicyDocument"]) for policy in branches(entry)]
        elif spec["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy") and name not in capped:
            documents.append((name, properties["PolicyDocument"]))
    return documents


def resource_documents(resources: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    documents = []
    for name, spec in resources.items():
        properties = spec.get("Properties", {})
        if spec["Type"] in ("AWS::S3::BucketPolicy", "AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy"):
            documents.append((name, properties["PolicyDocument"]))
        elif spec["Type"] == "AWS::KMS::Key":
            documents.append((name, properties["KeyPolicy"]))
    return documents


def allows(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for entry in as_list(document["Statement"]) for s in branches(entry) if s["Effect"] == "Allow"]


def s3_grants(resources: dict[str, Any], function: str) -> dict[str, set[str]]:
    """S3 action -> the media bucket keys (after the bucket name) the function's role may use it on."""
    grants: dict[str, set[str]] = {}
    for statement in role_statements(resources, f"{function}Role"):
        for action in as_list(statement["Action"]):
            if action.startswith("s3:"):
                keys = {arn_text(r).replace(MEDIA_OBJECT_ARN, "") for r in as_list(statement["Resource"])}
                grants.setdefault(action, set()).update(keys)
    return grants


# ---------------------------------------------------------------- no wildcards


def test_no_identity_policy_grants_a_star_resource_or_a_wildcard_action_without_a_reason(resources):
    found = []
    for name, document in identity_documents(resources):
        for statement in allows(document):
            assert "NotAction" not in statement and "NotResource" not in statement, name
            actions = as_list(statement["Action"])
            found += [(name, a) for a in actions if "*" in a and a not in WILDCARD_ACTIONS]
            if "*" in as_list(statement["Resource"]):
                found += [(name, a, "*") for a in actions if a not in STAR_RESOURCE_ACTIONS]

    assert found == []


def test_every_managed_policy_a_role_attaches_is_the_templates_own_or_on_the_allow_list(resources):
    attached = {
        arn_text(arn).split(":iam::aws:policy/", 1)[1]
        for spec in resources.values()
        if spec["Type"] == "AWS::IAM::Role"
        for arn in spec["Properties"].get("ManagedPolicyArns", [])
        if ":iam::aws:policy/" in arn_text(arn)
    }

    assert attached <= set(AWS_MANAGED_POLICIES)


def test_no_resource_policy_allows_a_wildcard_action_or_anyone(resources):
    for name, document in resource_documents(resources):
        for statement in allows(document):
            assert statement["Principal"] != "*", name
            assert all("*" not in a or a in WILDCARD_ACTIONS for a in as_list(statement["Action"])), name
            if statement["Principal"].get("AWS"):  # only the account's root, whose IAM policies then decide
                assert arn_text(statement["Principal"]["AWS"]) == "arn:${AWS::Partition}:iam::${AWS::AccountId}:root", name


def test_every_service_principal_in_a_resource_policy_acts_only_for_this_account(resources):
    for name, document in resource_documents(resources):
        for statement in allows(document):
            if "Service" in statement["Principal"]:
                conditions = {key for test in statement.get("Condition", {}).values() for key in test}
                assert "aws:SourceAccount" in conditions and "aws:SourceArn" in conditions, (name, statement.get("Sid"))


def test_lambda_permissions_for_services_name_the_source(resources):
    for name, spec in resources.items():
        if spec["Type"] == "AWS::Lambda::Permission" and spec["Properties"]["Principal"].endswith(".amazonaws.com"):
            assert "SourceArn" in spec["Properties"], name


# ---------------------------------------------------------------- queues


def test_every_role_sam_gives_any_queues_read_is_capped_at_this_stacks_queues(resources):
    readers = [
        name
        for name, spec in resources.items()
        if spec["Type"] == "AWS::IAM::Role"
        and any(arn_text(arn).endswith(":policy/service-role/AWSLambdaSQSQueueExecutionRole") for arn in spec["Properties"].get("ManagedPolicyArns", []))
    ]
    (boundary,) = boundaries(resources)
    capped, cap = allows(resources[boundary]["Properties"]["PolicyDocument"])
    queues = {f"GetAtt:{n}.Arn" for n, s in resources.items() if s["Type"] == "AWS::SQS::Queue"}

    assert readers
    assert all(resources[r]["Properties"].get("PermissionsBoundary") == {"Ref": boundary} for r in readers)
    assert set(capped["NotAction"]) == set(cap["Action"]) == {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
    assert {arn_text(r) for r in cap["Resource"]} == queues


@pytest.mark.parametrize("worker", ["StoryWorkerFunction", "IllustrationWorkerFunction", "FinalizeWorkerFunction", "PdfWorkerFunction"])
def test_a_step_worker_may_bring_back_records_of_its_own_queues_only(resources, worker):
    own = {
        arn_text(spec["Properties"]["EventSourceArn"])
        for spec in resources.values()
        if spec["Type"] == "AWS::Lambda::EventSourceMapping" and spec["Properties"]["FunctionName"]["Ref"].startswith(worker)
    }
    granted = {
        arn_text(r)
        for s in role_statements(resources, f"{worker}Role")
        if "sqs:ChangeMessageVisibility" in as_list(s["Action"])
        for r in as_list(s["Resource"])
    }

    assert own and granted == own


# ---------------------------------------------------------------- the media bucket, by key prefix


def test_the_story_worker_only_reads_photos(resources):
    assert s3_grants(resources, "StoryWorkerFunction") == {"s3:GetObject": {"books/*/photos/*"}}


def test_the_illustration_worker_reads_photos_and_writes_only_illustrations(resources):
    assert s3_grants(resources, "IllustrationWorkerFunction") == {
        "s3:GetObject": {"books/*/photos/*"},
        "s3:PutObject": {"books/*/illustrations/*"},
    }


def test_the_pdf_worker_reads_illustrations_and_photos_and_writes_only_the_pdf(resources):
    # A page without an illustration (flagged or failed) is printed with its photo.
    assert s3_grants(resources, "PdfWorkerFunction") == {
        "s3:GetObject": {"books/*/illustrations/*", "books/*/photos/*"},
        "s3:PutObject": {"books/*/book.pdf"},
    }


@pytest.mark.parametrize("function", FUNCTIONS_WITHOUT_S3)
def test_functions_that_touch_no_media_have_no_s3_action_at_all(resources, function):
    assert s3_grants(resources, function) == {}


def test_the_api_writes_only_uploads_photos_and_thumbnails_and_deletes_only_under_books(resources):
    """It also reads exports/: an export's download link is a presigned GET, signed by the API's role."""
    assert s3_grants(resources, "ApiFunction") == {
        "s3:PutObject": {"books/*/uploads/*", "books/*/photos/*", "books/*/thumbnails/*"},
        "s3:PutObjectTagging": {"books/*/uploads/*"},
        "s3:GetObject": {"books/*", "exports/*"},
        "s3:DeleteObject": {"books/*"},
        "s3:ListBucket": {"arn:${AWS::Partition}:s3:::${MediaBucket}"},
    }


def test_the_maintenance_function_lists_and_deletes_only_under_books(resources):
    grants = s3_grants(resources, "MaintenanceFunction")
    (listing,) = [s for s in role_statements(resources, "MaintenanceFunctionRole") if s["Action"] == "s3:ListBucket"]

    assert grants == {"s3:ListBucket": {"arn:${AWS::Partition}:s3:::${MediaBucket}"}, "s3:DeleteObject": {"books/*"}}
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["books/*"]}}


def test_the_maintenance_function_may_only_describe_the_executions_of_the_book_state_machine(resources):
    granted = [
        (as_list(s["Action"]), [arn_text(r) for r in as_list(s["Resource"])])
        for s in role_statements(resources, "MaintenanceFunctionRole")
        if any(a.startswith("states:") for a in as_list(s["Action"]))
    ]

    assert granted == [
        (["states:DescribeExecution"], ["arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${BookGenerationStateMachine.Name}:*"])
    ]


def test_every_bucket_refuses_requests_without_tls(resources):
    buckets = {n for n, s in resources.items() if s["Type"] == "AWS::S3::Bucket"}
    guarded = {
        spec["Properties"]["Bucket"]["Ref"]
        for spec in resources.values()
        if spec["Type"] == "AWS::S3::BucketPolicy"
        for entry in as_list(spec["Properties"]["PolicyDocument"]["Statement"])
        for statement in branches(entry)
        if statement["Effect"] == "Deny"
        and statement["Principal"] == "*"
        and statement["Action"] == "s3:*"
        and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        and len(statement["Resource"]) == 2  # the bucket and its objects
    }

    assert guarded == buckets
