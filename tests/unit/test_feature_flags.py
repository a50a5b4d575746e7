"""Feature flags: the template's document, the file store the local stack uses, and the defaults when
no store is configured or the store fails."""

from __future__ import annotations

import io
import json
from pathlib import Path

import boto3
import pytest
from aws_lambda_powertools.utilities.feature_flags import AppConfigStore, FeatureFlags
from aws_lambda_powertools.utilities.feature_flags.schema import SchemaValidator
from botocore.response import StreamingBody
from botocore.stub import Stubber

from storywink.config import load_settings
from storywink.flags import FileStore, FlagStore
from storywink.local.template import load_template, repo_root

TEMPLATE = load_template(repo_root() / "template.yaml")
RESOURCES = TEMPLATE["Resources"]
DOCUMENT = RESOURCES["FeatureFlagsVersion"]["Properties"]["Content"]
APPCONFIG_VARIABLES = ("FEATURE_FLAGS_APPLICATION", "FEATURE_FLAGS_ENVIRONMENT", "FEATURE_FLAGS_PROFILE")
STORE_VARIABLES = ("FEATURE_FLAGS_FILE", *APPCONFIG_VARIABLES)


@pytest.fixture(autouse=True)
def no_flag_store(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in STORE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


def flag_store() -> FlagStore:
    """The flag store a container builds from the environment as it is now."""
    return FlagStore.from_settings(load_settings())


@pytest.fixture
def flags_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The template's document in a file, selected as the flag store."""
    path = tmp_path / "feature-flags.json"
    path.write_text(DOCUMENT)
    monkeypatch.setenv("FEATURE_FLAGS_FILE", str(path))
    return path


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ---------------------------------------------------------------- the template's document


def test_template_flag_document_is_valid_powertools_schema_json():
    SchemaValidator(schema=json.loads(DOCUMENT)).validate()


def test_template_defines_priority_queues_and_live_pushes():
    document = json.loads(DOCUMENT)

    assert document["priority_queues"]["default"] is False
    assert document["live_pushes"]["default"] is True


def test_template_serves_the_document_as_freeform_json_which_powertools_reads_as_is():
    assert RESOURCES["FeatureFlagsProfile"]["Properties"]["Type"] == "AWS.Freeform"
    assert RESOURCES["FeatureFlagsVersion"]["Properties"]["ContentType"] == "application/json"
    assert RESOURCES["FeatureFlagsDeployment"]["Properties"]["ConfigurationVersion"] == {"Ref": "FeatureFlagsVersion"}


def test_appconfig_store_reads_the_deployed_document_as_it_is(monkeypatch):
    """What GetLatestConfiguration returns for the freeform profile is the Content itself."""
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    client = boto3.client("appconfigdata", region_name="us-east-1")
    stub = Stubber(client)
    stub.add_response("start_configuration_session", {"InitialConfigurationToken": "t1"})
    body = DOCUMENT.encode()
    stub.add_response(
        "get_latest_configuration",
        {"Configuration": StreamingBody(io.BytesIO(body), len(body)), "NextPollConfigurationToken": "t2"},
    )
    store = AppConfigStore(environment="env-id", application="app-id", name="profile-id", boto3_client=client)

    with stub:
        flags = FeatureFlags(store=store)
        assert flags.evaluate(name="priority_queues", context={"plan": "premium"}, default=False) is True
        assert flags.evaluate(name="live_pushes", default=False) is True


def test_every_function_is_told_where_the_flags_live():
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]

    assert variables["FEATURE_FLAGS_APPLICATION"] == {"Ref": "FeatureFlagsApplication"}
    assert variables["FEATURE_FLAGS_ENVIRONMENT"] == {"Ref": "FeatureFlagsEnvironment"}
    assert variables["FEATURE_FLAGS_PROFILE"] == {"Ref": "FeatureFlagsProfile"}


PUSHING_FUNCTIONS = sorted(
    name
    for name, spec in RESOURCES.items()
    if spec["Type"] == "AWS::Serverless::Function" and {"Ref": "RealtimePushPolicy"} in spec["Properties"]["Policies"]
)


@pytest.mark.parametrize("function", PUSHING_FUNCTIONS)
def test_every_function_that_pushes_or_starts_books_may_read_the_flags(function):
    assert {"Ref": "FeatureFlagsReadPolicy"} in RESOURCES[function]["Properties"]["Policies"]


def test_flag_read_policy_allows_only_a_session_and_the_latest_configuration_of_the_profile():
    (statement,) = RESOURCES["FeatureFlagsReadPolicy"]["Properties"]["PolicyDocument"]["Statement"]

    assert sorted(statement["Action"]) == ["appconfig:GetLatestConfiguration", "appconfig:StartConfigurationSession"]
    resource = statement["Resource"]["Fn::Sub"]
    for name in ("FeatureFlagsApplication", "FeatureFlagsEnvironment", "FeatureFlagsProfile"):
        assert f"${{{name}}}" in resource


# ---------------------------------------------------------------- the file store


def test_flags_have_their_template_defaults(flags_file):
    flags = flag_store()
    assert flags.enabled("live_pushes") is True
    assert flags.enabled("priority_queues", {"plan": "free"}, default=True) is False


def test_priority_queues_is_on_for_the_premium_plan_only(flags_file):
    flags = flag_store()
    assert flags.enabled("priority_queues", {"plan": "premium"}) is True
    assert flags.enabled("priority_queues", {"plan": "free"}) is False
    assert flags.enabled("priority_queues") is False


def test_a_flag_missing_from_the_document_is_the_callers_default(flags_file):
    flags = flag_store()
    assert flags.enabled("no_such_flag", default=True) is True
    assert flags.enabled("no_such_flag", default=False) is False


def test_an_edit_is_picked_up_once_the_cached_document_is_older_than_max_age(tmp_path):
    path = tmp_path / "feature-flags.json"
    path.write_text(DOCUMENT)
    clock = Clock()
    flags = FeatureFlags(store=FileStore(path, max_age=5, clock=clock))
    assert flags.evaluate(name="live_pushes", default=True) is True

    path.write_text(json.dumps({**json.loads(DOCUMENT), "live_pushes": {"default": False}}))
    clock.now += 4
    assert flags.evaluate(name="live_pushes", default=True) is True
    clock.now += 1
    assert flags.evaluate(name="live_pushes", default=True) is False


def test_with_max_age_zero_every_read_sees_the_file(tmp_path):
    path = tmp_path / "feature-flags.json"
    path.write_text(DOCUMENT)
    flags = FeatureFlags(store=FileStore(path, max_age=0))

    path.write_text(json.dumps({"priority_queues": {"default": True}}))
    assert flags.evaluate(name="priority_queues", context={"plan": "free"}, default=False) is True


@pytest.mark.parametrize(
    "content",
    ['{"live_pushes": {"default": fa', '["live_pushes"]', '{"live_pushes": {"rules": {}}}', ""],
    ids=["truncated-json", "not-an-object", "no-default", "empty"],
)
def test_a_malformed_document_gives_the_default_with_a_warning(flags_file, content, caplog):
    flags_file.write_text(content)
    flags = flag_store()

    assert flags.enabled("live_pushes", default=True) is True
    assert flags.enabled("live_pushes", default=False) is False
    assert [r.levelname for r in caplog.records if "feature flags unavailable" in r.getMessage()] == ["WARNING"] * 2


def test_a_missing_file_gives_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv("FEATURE_FLAGS_FILE", str(tmp_path / "nowhere.json"))

    assert flag_store().enabled("live_pushes", default=True) is True


def test_the_file_wins_over_appconfig(flags_file, monkeypatch):
    for variable, value in zip(APPCONFIG_VARIABLES, ("app", "env", "profile"), strict=True):
        monkeypatch.setenv(variable, value)

    assert flag_store().enabled("priority_queues", {"plan": "premium"}) is True


# ---------------------------------------------------------------- no store, or AppConfig failing


@pytest.mark.parametrize("default", [True, False])
def test_without_a_store_every_flag_is_the_callers_default(default):
    flags = flag_store()
    assert flags.enabled("priority_queues", {"plan": "premium"}, default=default) is default
    assert flags.enabled("live_pushes", default=default) is default


def test_appconfig_unreachable_gives_the_default_without_raising(monkeypatch):
    # The tests' AWS endpoint is moto, which has no appconfigdata: the read fails like an outage would.
    for variable, value in zip(APPCONFIG_VARIABLES, ("app", "env", "profile"), strict=True):
        monkeypatch.setenv(variable, value)
    flags = flag_store()

    assert flags.enabled("live_pushes", default=True) is True
    assert flags.enabled("priority_queues", {"plan": "premium"}, default=False) is False
