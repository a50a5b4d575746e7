"""template.yaml's operations promises: alarms to one topic, a dashboard, gradual deployments that roll back."""

from __future__ import annotations

import json
import re
import tomllib

import pytest

from storywink.local.template import load_template, repo_root

ROOT = repo_root()
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES = TEMPLATE["Resources"]
FUNCTION_GLOBALS = TEMPLATE["Globals"]["Function"]
TOPIC = {"Ref": "AlarmTopic"}
SUBSTITUTION = re.compile(r"\$\{([^}!][^}]*)\}")


def resources_of_type(kind: str) -> dict[str, dict]:
    return {name: resource for name, resource in RESOURCES.items() if resource["Type"] == kind}


ALARMS = resources_of_type("AWS::CloudWatch::Alarm")
FUNCTIONS = resources_of_type("AWS::Serverless::Function")
QUEUES = resources_of_type("AWS::SQS::Queue")
# step queue -> its dead-letter queue, as the redrive policies say
DEAD_LETTER_QUEUES = {
    name: queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    for name, queue in QUEUES.items()
    if "RedrivePolicy" in queue["Properties"]
}
STEP_WORKERS = sorted({
    name
    for name, function in FUNCTIONS.items()
    for event in function["Properties"].get("Events", {}).values()
    if event["Type"] == "SQS" and event["Properties"]["Queue"]["Fn::GetAtt"][0] in DEAD_LETTER_QUEUES
})
GRADUALLY_DEPLOYED = sorted(
    name for name, function in FUNCTIONS.items() if "DeploymentPreference" in function["Properties"]
)


def watched_metrics(alarm: dict) -> list[tuple[str, str, dict]]:
    """(namespace, metric name, dimensions) of every metric an alarm reads, plain or inside metric math."""
    properties = alarm["Properties"]
    if "MetricName" in properties:
        metrics = [properties]
    else:
        metrics = [query["MetricStat"]["Metric"] for query in properties.get("Metrics", []) if "MetricStat" in query]
    return [
        (metric["Namespace"], metric["MetricName"], {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])})
        for metric in metrics
    ]


def alarms_on(namespace: str, metric_name: str, **dimensions) -> list[str]:
    wanted = (namespace, metric_name, dimensions)
    return sorted(name for name, alarm in ALARMS.items() if wanted in watched_metrics(alarm))


def alarm_property(name: str, key: str):
    return ALARMS[name]["Properties"][key]


def dashboard_body() -> str:
    (dashboard,) = resources_of_type("AWS::CloudWatch::Dashboard").values()
    return dashboard["Properties"]["DashboardBody"]["Fn::Sub"]


def dashboard_widgets() -> list[dict]:
    """The widgets, each ${Parameter} replaced by its default and each other ${Name} by the placeholder <Name>."""
    parameters = TEMPLATE["Parameters"]

    def placeholder(match: re.Match) -> str:
        name = match.group(1)
        return str(parameters[name]["Default"]) if name in parameters else f"<{name}>"

    return json.loads(SUBSTITUTION.sub(placeholder, dashboard_body()))["widgets"]


def dashboard_metric_rows() -> list[list]:
    return [row for widget in dashboard_widgets() for row in widget["properties"].get("metrics", [])]


def samconfig_overrides(environment: str) -> dict[str, str]:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    pairs = config[environment]["deploy"]["parameters"]["parameter_overrides"].split()
    return dict(pair.split("=", 1) for pair in pairs)


# ---------------------------------------------------------------- topic


def test_alarm_topic_is_encrypted_with_a_key_cloudwatch_may_use():
    key = RESOURCES["AlarmTopic"]["Properties"]["KmsMasterKeyId"]
    (key_id,) = key.values()
    statements = RESOURCES[key_id]["Properties"]["KeyPolicy"]["Statement"]

    assert any(
        statement["Principal"].get("Service") == "cloudwatch.amazonaws.com"
        and {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(statement["Action"])
        for statement in statements
    )


def test_alarm_email_is_subscribed_only_when_given():
    subscription = RESOURCES["AlarmEmailSubscription"]
    condition = TEMPLATE["Conditions"][subscription["Condition"]]

    assert TEMPLATE["Parameters"]["AlarmEmail"]["Default"] == ""
    assert condition == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    assert subscription["Properties"]["TopicArn"] == TOPIC
    assert subscription["Properties"]["Protocol"] == "email"


@pytest.mark.parametrize("alarm", sorted(ALARMS))
def test_every_alarm_notifies_the_topic_when_it_fires_and_when_it_clears(alarm):
    assert alarm_property(alarm, "AlarmActions") == [TOPIC]
    assert alarm_property(alarm, "OKActions") == [TOPIC]


@pytest.mark.parametrize("alarm", sorted(ALARMS))
def test_every_alarm_treats_missing_data_as_healthy_and_says_what_it_means(alarm):
    assert alarm_property(alarm, "TreatMissingData") == "notBreaching"
    description = alarm_property(alarm, "AlarmDescription")
    # A description that names its parameters (the plan's thresholds) is a Fn::Sub of the text.
    assert len(description["Fn::Sub"] if isinstance(description, dict) else description) > 80


# ---------------------------------------------------------------- what is watched


@pytest.mark.parametrize("queue", sorted([*DEAD_LETTER_QUEUES.values(), "FailedBooksQueue"]))
def test_dead_letter_queue_has_a_depth_alarm(queue):
    alarms = alarms_on(
        "AWS/SQS", "ApproximateNumberOfMessagesVisible", QueueName={"Fn::GetAtt": [queue, "QueueName"]}
    )

    assert alarms
    for alarm in alarms:
        assert alarm_property(alarm, "Threshold") == 0
        assert alarm_property(alarm, "ComparisonOperator") == "GreaterThanThreshold"


def test_dead_lettered_messages_metric_has_an_alarm_where_powertools_publishes_it():
    variables = FUNCTION_GLOBALS["Environment"]["Variables"]

    assert alarms_on(
        variables["POWERTOOLS_METRICS_NAMESPACE"], "DeadLetteredMessages", service=variables["POWERTOOLS_SERVICE_NAME"]
    )


@pytest.mark.parametrize("metric", ["ExecutionsFailed", "ExecutionsTimedOut"])
def test_state_machine_has_an_alarm_on(metric):
    assert alarms_on("AWS/States", metric, StateMachineArn={"Ref": "BookGenerationStateMachine"})


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_function_has_an_errors_alarm(function):
    (alarm,) = alarms_on("AWS/Lambda", "Errors", FunctionName={"Ref": function})

    assert alarm_property(alarm, "Statistic") == "Sum"


def test_http_api_has_a_5xx_alarm():
    assert alarms_on("AWS/ApiGateway", "5xx", ApiId={"Ref": "HttpApi"})


def test_http_api_p95_latency_alarm_fires_above_two_seconds():
    (alarm,) = alarms_on("AWS/ApiGateway", "Latency", ApiId={"Ref": "HttpApi"})

    assert alarm_property(alarm, "ExtendedStatistic") == "p95"
    assert alarm_property(alarm, "Threshold") == 2000


# The privacy jobs' queues: a deletion waits up to 15 minutes on purpose, and an export takes minutes.
PRIVACY_QUEUES = {"AccountDeletionQueue", "ExportQueue"}


@pytest.mark.parametrize("queue", sorted(set(DEAD_LETTER_QUEUES) - {"PushFanoutQueue"} - PRIVACY_QUEUES))
def test_step_queue_alarms_when_its_oldest_message_has_waited_too_long(queue):
    (alarm,) = alarms_on("AWS/SQS", "ApproximateAgeOfOldestMessage", QueueName={"Fn::GetAtt": [queue, "QueueName"]})

    assert alarm_property(alarm, "Statistic") == "Maximum"
    assert alarm_property(alarm, "Threshold") == {"Ref": "QueueAgeAlarmSeconds"}
    assert alarm_property(alarm, "ComparisonOperator") == "GreaterThanThreshold"


@pytest.mark.parametrize("queue", sorted(PRIVACY_QUEUES))
def test_privacy_queue_alarms_when_a_job_has_waited_an_hour(queue):
    (alarm,) = alarms_on("AWS/SQS", "ApproximateAgeOfOldestMessage", QueueName={"Fn::GetAtt": [queue, "QueueName"]})

    assert alarm_property(alarm, "Statistic") == "Maximum"
    assert alarm_property(alarm, "Threshold") == 3600


def test_push_fanout_queue_alarms_when_live_progress_is_a_minute_late():
    (alarm,) = alarms_on("AWS/SQS", "ApproximateAgeOfOldestMessage", QueueName={"Fn::GetAtt": ["PushFanoutQueue", "QueueName"]})

    assert alarm_property(alarm, "Statistic") == "Maximum"
    assert alarm_property(alarm, "Threshold") == 60


def test_queue_age_alarms_go_off_long_before_a_waiting_task_could_time_out():
    """A task's timeout runs from the moment it is queued: the backlog alarm comes first, by far."""
    parameters = TEMPLATE["Parameters"]
    timeouts = [spec["Default"] for name, spec in parameters.items() if name.endswith("TimeoutSeconds")]

    assert all(parameters["QueueAgeAlarmSeconds"]["Default"] * 10 < timeout for timeout in timeouts)


# ---------------------------------------------------------------- gradual deployment


def test_the_api_and_every_step_worker_deploy_gradually():
    assert STEP_WORKERS and GRADUALLY_DEPLOYED == sorted(["ApiFunction", *STEP_WORKERS])


@pytest.mark.parametrize("function", GRADUALLY_DEPLOYED)
def test_deployment_rolls_back_on_alarms_that_exist(function):
    preference = FUNCTIONS[function]["Properties"]["DeploymentPreference"]
    alarms = [alarm["Ref"] for alarm in preference["Alarms"]]

    assert preference["Type"] == {"Ref": "DeploymentType"}
    assert set(alarms) <= set(ALARMS)
    assert alarms_on("AWS/Lambda", "Errors", FunctionName={"Ref": function})[0] in alarms


def test_api_deployment_does_not_depend_on_the_http_api_alarms():
    """Those alarms name the API, whose integration names the function's alias: a cycle CloudFormation rejects."""
    alarms = {alarm["Ref"] for alarm in FUNCTIONS["ApiFunction"]["Properties"]["DeploymentPreference"]["Alarms"]}

    assert not set(alarms_on("AWS/ApiGateway", "5xx", ApiId={"Ref": "HttpApi"})) & alarms
    assert not set(alarms_on("AWS/ApiGateway", "Latency", ApiId={"Ref": "HttpApi"})) & alarms


def test_api_deployment_rolls_back_on_the_5xx_rate_and_latency_the_function_measures_itself():
    """The same signals as the HTTP API's alarms, from the API's own metrics (storywink.api.middleware)."""
    alarms = {alarm["Ref"] for alarm in FUNCTIONS["ApiFunction"]["Properties"]["DeploymentPreference"]["Alarms"]}
    latency = RESOURCES["ApiLatencyAlarm"]["Properties"]
    rate = RESOURCES["ApiServerErrorRateAlarm"]["Properties"]
    measured = {query["Id"]: query["MetricStat"]["Metric"] for query in rate["Metrics"] if "MetricStat" in query}

    assert {"ApiFunctionErrorsAlarm", "ApiServerErrorRateAlarm", "ApiLatencyAlarm"} <= alarms
    assert (latency["Namespace"], latency["MetricName"], latency["ExtendedStatistic"]) == ("Storywink", "ApiLatency", "p95")
    assert {name: metric["MetricName"] for name, metric in measured.items()} == {"requests": "ApiRequests", "errors": "ApiServerErrors"}
    assert all(metric["Namespace"] == "Storywink" and metric["Dimensions"] == [{"Name": "service", "Value": "storywink"}] for metric in measured.values())


def test_deployments_are_canaries_except_in_dev():
    assert TEMPLATE["Parameters"]["DeploymentType"]["Default"] == "Canary10Percent5Minutes"
    assert samconfig_overrides("dev")["DeploymentType"] == "AllAtOnce"
    assert "DeploymentType" not in samconfig_overrides("staging")
    assert "DeploymentType" not in samconfig_overrides("prod")


@pytest.mark.parametrize(
    "function",
    sorted(name for name, spec in FUNCTIONS.items() if "AutoPublishAlias" not in spec.get("IgnoreGlobals", [])),
)
def test_aliased_function_publishes_a_version_for_any_change_including_a_new_layer(function):
    assert FUNCTION_GLOBALS["AutoPublishAlias"] == "live"
    assert FUNCTIONS[function]["Properties"]["AutoPublishAliasAllProperties"] is True
    assert RESOURCES["StorywinkLayer"]["Properties"]["PublishLambdaVersion"] is True


@pytest.mark.parametrize("integration", sorted(resources_of_type("AWS::ApiGatewayV2::Integration")))
def test_websocket_integrations_invoke_functions_without_an_alias(integration):
    """The integrations and permissions name the function itself, so it must not be shifted behind an alias."""
    uri = RESOURCES[integration]["Properties"]["IntegrationUri"]["Fn::Sub"]
    (function,) = re.findall(r"\$\{(\w+)\.Arn\}", uri)

    assert "AutoPublishAlias" in FUNCTIONS[function].get("IgnoreGlobals", [])


# ---------------------------------------------------------------- dashboard


def test_dashboard_body_is_json_once_substituted():
    assert dashboard_widgets()


def test_dashboard_substitutes_only_resources_parameters_and_pseudo_parameters_that_exist():
    for reference in SUBSTITUTION.findall(dashboard_body()):
        assert (
            reference.split(".", 1)[0] in RESOURCES
            or reference in TEMPLATE["Parameters"]
            or reference in {"AWS::Region", "AWS::AccountId"}
        ), reference


@pytest.mark.parametrize("queue", sorted(QUEUES))
def test_dashboard_shows_depth_and_oldest_age_of_every_queue(queue):
    shown = {row[1] for row in dashboard_metric_rows() if row[0] == "AWS/SQS" and f"<{queue}.QueueName>" in row}

    assert {"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"} <= shown


@pytest.mark.parametrize("worker", STEP_WORKERS)
def test_dashboard_shows_errors_duration_and_concurrency_of_every_step_worker(worker):
    shown = {row[1] for row in dashboard_metric_rows() if row[0] == "AWS/Lambda" and f"<{worker}>" in row}

    assert {"Errors", "Duration", "ConcurrentExecutions"} <= shown


@pytest.mark.parametrize(
    "metric",
    [
        "StorySucceeded",
        "IllustrationSucceeded",
        "IllustrationProviderError",
        "DeadLetteredMessages",
        "WebSocketConnectionGone",
    ],
)
def test_dashboard_shows_custom_metric_where_powertools_publishes_it(metric):
    variables = FUNCTION_GLOBALS["Environment"]["Variables"]
    expected = [variables["POWERTOOLS_METRICS_NAMESPACE"], metric, "service", variables["POWERTOOLS_SERVICE_NAME"]]

    assert any(row[:4] == expected for row in dashboard_metric_rows())


def test_dashboard_lists_every_alarm():
    listed = {
        alarm.strip("<>").removesuffix(".Arn")
        for widget in dashboard_widgets()
        if widget["type"] == "alarm"
        for alarm in widget["properties"]["alarms"]
    }

    assert listed == set(ALARMS)


# ---------------------------------------------------------------- the plan's success metrics

PLAN_ALARMS = {
    "ApiLatencyAlarm": ("ApiLatencyP95TargetMs", 200),
    "ApiLatencyP99Alarm": ("ApiLatencyP99TargetMs", 1000),
    "ApiServerErrorRateAlarm": ("ApiErrorRateTargetPercent", 0.1),
    "StoryJobSuccessRateAlarm": ("JobSuccessRateTargetPercent", 95),
    "IllustrationJobSuccessRateAlarm": ("JobSuccessRateTargetPercent", 95),
    "FinalizeJobSuccessRateAlarm": ("JobSuccessRateTargetPercent", 95),
    "PdfJobSuccessRateAlarm": ("JobSuccessRateTargetPercent", 95),
    "CompletedBookRateAlarm": ("CompletedBookRateTargetPercent", 90),
    "TimeToBookAlarm": ("TimeToBookP95TargetSeconds", 600),
}


@pytest.mark.parametrize("alarm", sorted(PLAN_ALARMS))
def test_each_success_metric_alarm_takes_its_threshold_from_a_parameter_with_the_plan_s_number(alarm):
    parameter, plan_number = PLAN_ALARMS[alarm]
    assert alarm_property(alarm, "Threshold") == {"Ref": parameter}
    assert float(TEMPLATE["Parameters"][parameter]["Default"]) == plan_number
    assert "${" + parameter + "}" in alarm_property(alarm, "AlarmDescription")["Fn::Sub"]


def test_a_step_s_success_rate_counts_every_error_class_and_needs_a_minimum_sample():
    metrics = {query["Id"]: query for query in alarm_property("IllustrationJobSuccessRateAlarm", "Metrics")}
    assert metrics["succeeded"]["MetricStat"]["Metric"]["Dimensions"] == [
        {"Name": "service", "Value": "storywink"},
        {"Name": "step", "Value": "ILLUSTRATION"},
    ]
    assert metrics["failed"]["Expression"] == (
        "SELECT SUM(JobFailed) FROM SCHEMA(Storywink, errorClass, service, step) WHERE step = 'ILLUSTRATION'"
    )
    assert "${JobSuccessMinAttempts}" in metrics["rate"]["Expression"]["Fn::Sub"]
    assert {query["Period"] if "Period" in query else query["MetricStat"]["Period"] for query in metrics.values() if query["Id"] != "rate"} == {900}


def test_the_canary_rollbacks_listen_to_the_alarms_that_concern_new_code():
    def rollback_alarms(function: str) -> set[str]:
        return {alarm["Ref"] for alarm in RESOURCES[function]["Properties"]["DeploymentPreference"]["Alarms"]}

    assert {"ApiServerErrorRateAlarm", "ApiLatencyAlarm", "ApiLatencyP99Alarm"} <= rollback_alarms("ApiFunction")
    for step in ("Story", "Illustration", "Finalize", "Pdf"):
        assert f"{step}JobSuccessRateAlarm" in rollback_alarms(f"{step}WorkerFunction")


def test_the_dashboard_shows_each_plan_number_with_its_value_and_error_budget():
    slo = [w for w in dashboard_widgets() if w["y"] >= 50 and w["type"] == "metric"]
    titles = " ".join(w["properties"]["title"] for w in slo)
    for number in ("200 ms", "0.1 %", "99.9 %", "600 s", "95 %", "90 %"):
        assert number in titles, number
    budgets = [w for w in slo if any(m[-1].get("label") == "budget left (%)" for m in w["properties"]["metrics"])]
    assert len(budgets) == 3  # latency, 5xx rate and uptime: the three the plan states as rates
    names = {m[1] for w in slo for m in w["properties"]["metrics"] if isinstance(m[0], str)}
    assert {"ApiLatency", "ApiServerErrors", "SuccessPercent", "TimeToBookSeconds", "JobSucceeded"} <= names
