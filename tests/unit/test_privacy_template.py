"""template.yaml's promises for account deletion and export: the zip expires as the API says, the jobs'
workers reach only the prefixes they need, the sweep runs hourly and may only read the pool."""

from __future__ import annotations

import pytest

from storywink.config import Settings
from storywink.local.template import load_template, repo_root

TEMPLATE = load_template(repo_root() / "template.yaml")
RESOURCES = TEMPLATE["Resources"]
PRIVACY_FUNCTIONS = ["AccountDeletionWorkerFunction", "ExportWorkerFunction", "AccountSweeperFunction"]


def statements(function: str) -> list[dict]:
    return [s for policy in RESOURCES[function]["Properties"]["Policies"] for s in policy.get("Statement", [])]


def s3_resources(function: str) -> set[str]:
    found = set()
    for statement in statements(function):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if any(action.startswith("s3:") for action in actions):
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            # A GetAtt is the bucket itself (ListBucket, which its condition narrows to the prefixes).
            found |= {r["Fn::Sub"] if isinstance(r, dict) and "Fn::Sub" in r else "the bucket" for r in resources}
    return found


def test_an_export_lives_as_long_in_the_bucket_as_the_api_says():
    rules = RESOURCES["MediaBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    (rule,) = [rule for rule in rules if rule["Id"] == "ExpireExports"]
    assert (rule["Prefix"], rule["Status"]) == ("exports/", "Enabled")
    assert rule["ExpirationInDays"] == Settings.model_fields["export_ttl_days"].default


@pytest.mark.parametrize("function", PRIVACY_FUNCTIONS)
def test_a_privacy_function_has_no_bucket_wide_grant(function):
    policies = RESOURCES[function]["Properties"]["Policies"]
    assert not [policy for policy in policies if "S3CrudPolicy" in policy or "S3ReadPolicy" in policy]
    assert all(resource.endswith(("/books/*", "/exports/*")) or resource == "the bucket" for resource in s3_resources(function))


def test_the_export_worker_only_reads_books_and_only_writes_exports():
    grants = {
        (action, resource["Fn::Sub"])
        for statement in statements("ExportWorkerFunction")
        for action in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
        for resource in (statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]])
        if action.startswith("s3:")
    }
    assert ("s3:GetObject", "${MediaBucket.Arn}/books/*") in grants
    assert {resource for action, resource in grants if action != "s3:GetObject"} == {"${MediaBucket.Arn}/exports/*"}


def test_the_deletion_worker_lists_only_a_users_prefixes():
    (listing,) = [s for s in statements("AccountDeletionWorkerFunction") if s["Action"] == "s3:ListBucket"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["books/*", "exports/*"]}}


def test_the_sweep_runs_hourly_and_may_only_read_the_pool():
    (event,) = RESOURCES["AccountSweeperFunction"]["Properties"]["Events"].values()
    assert event["Type"] == "ScheduleV2" and event["Properties"]["ScheduleExpression"] == "rate(1 hour)"
    cognito = {a for s in statements("AccountSweeperFunction") for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]) if a.startswith("cognito-idp:")}
    assert cognito == {"cognito-idp:ListUsers"}


def test_the_connections_table_finds_a_users_rows():
    indexes = {index["IndexName"]: index for index in RESOURCES["ConnectionsTable"]["Properties"]["GlobalSecondaryIndexes"]}
    assert indexes["ByUser"]["KeySchema"][0] == {"AttributeName": "userId", "KeyType": "HASH"}
