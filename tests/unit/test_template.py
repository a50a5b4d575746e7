"""template.yaml: the cloud definition's promises about queues, workers, the bucket, the API and the workflow."""

from __future__ import annotations

import re

import pytest

from storywink.local.template import load_template, repo_root

ROOT = repo_root()
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES = TEMPLATE["Resources"]
FUNCTION_GLOBALS = TEMPLATE.get("Globals", {}).get("Function", {})

HANDLER_MODULES = {"api", "story_worker", "illustration_worker", "finalize_worker", "pdf_worker"}
# step queue -> (its dead-letter queue, the worker that consumes it)
STEP_QUEUES = {
    "StoryQueue": ("StoryDeadLetterQueue", "StoryWorkerFunction"),
    "IllustrationQueue": ("IllustrationDeadLetterQueue", "IllustrationWorkerFunction"),
    "FinalizeQueue": ("FinalizeDeadLetterQueue", "FinalizeWorkerFunction"),
    "PdfQueue": ("PdfDeadLetterQueue", "PdfWorkerFunction"),
    "PriorityStoryQueue": ("PriorityStoryDeadLetterQueue", "StoryWorkerFunction"),
    "PriorityIllustrationQueue": ("PriorityIllustrationDeadLetterQueue", "IllustrationWorkerFunction"),
}
WORKERS = sorted({worker for _, worker in STEP_QUEUES.values()})
PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


def resources_of_type(kind: str) -> dict[str, dict]:
    return {name: resource for name, resource in RESOURCES.items() if resource["Type"] == kind}


def function_property(name: str, key: str):
    """A function's property as SAM resolves it: its own value, else the Globals one."""
    return RESOURCES[name]["Properties"].get(key, FUNCTION_GLOBALS.get(key))


def sqs_events(function_name: str) -> list[dict]:
    """Every SQS event source of a function (story and illustration read a standard and a priority queue)."""
    events = RESOURCES[function_name]["Properties"]["Events"].values()
    return [event["Properties"] for event in events if event["Type"] == "SQS"]


def statements(function_name: str) -> list[dict]:
    policies = RESOURCES[function_name]["Properties"]["Policies"]
    return [statement for policy in policies for statement in policy.get("Statement", [])]


def state_machine() -> dict:
    return RESOURCES["BookGenerationStateMachine"]["Properties"]


# ---------------------------------------------------------------- queues


@pytest.mark.parametrize("queue", STEP_QUEUES)
def test_step_queue_redrives_to_its_own_dead_letter_queue(queue):
    dead_letter_queue, _ = STEP_QUEUES[queue]
    redrive = RESOURCES[queue]["Properties"]["RedrivePolicy"]

    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": [dead_letter_queue, "Arn"]}
    assert isinstance(redrive["maxReceiveCount"], int) and redrive["maxReceiveCount"] >= 1


@pytest.mark.parametrize("queue", sorted(resources_of_type("AWS::SQS::Queue")))
def test_every_queue_is_encrypted_at_rest(queue):
    assert RESOURCES[queue]["Properties"]["SqsManagedSseEnabled"] is True


@pytest.mark.parametrize("queue", STEP_QUEUES)
def test_dead_letter_queue_keeps_messages_for_fourteen_days(queue):
    dead_letter_queue, _ = STEP_QUEUES[queue]

    assert RESOURCES[dead_letter_queue]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


@pytest.mark.parametrize("queue", STEP_QUEUES)
def test_step_queue_visibility_timeout_is_at_least_six_times_its_workers_timeout(queue):
    _, worker = STEP_QUEUES[queue]

    assert {"Fn::GetAtt": [queue, "Arn"]} in [event["Queue"] for event in sqs_events(worker)]
    assert RESOURCES[queue]["Properties"]["VisibilityTimeout"] >= 6 * function_property(worker, "Timeout")


# ---------------------------------------------------------------- live pushes

FANOUT_QUEUE = "PushFanoutQueue"


def test_push_fanout_queue_keeps_each_books_pushes_in_order_and_once():
    queue = RESOURCES[FANOUT_QUEUE]["Properties"]

    assert queue["FifoQueue"] is True and queue["QueueName"]["Fn::Sub"].endswith(".fifo")
    # Ordered and deduplicated per book (the message group), so books do not queue behind each other.
    assert (queue["DeduplicationScope"], queue["FifoThroughputLimit"]) == ("messageGroup", "perMessageGroupId")
    assert queue["ContentBasedDeduplication"] is False  # the sender names each message {bookId}-{seq}


def test_push_fanout_queue_dead_letters_to_a_fifo_queue_of_its_own():
    redrive = RESOURCES[FANOUT_QUEUE]["Properties"]["RedrivePolicy"]
    (dead_letter_queue, _) = redrive["deadLetterTargetArn"]["Fn::GetAtt"]

    assert dead_letter_queue != FANOUT_QUEUE and RESOURCES[dead_letter_queue]["Properties"]["FifoQueue"] is True
    assert RESOURCES[dead_letter_queue]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_the_fanout_function_reads_the_queue_as_fifo_allows():
    (event,) = sqs_events("PushFanoutFunction")

    assert event["Queue"] == {"Fn::GetAtt": [FANOUT_QUEUE, "Arn"]}
    assert 1 <= event["BatchSize"] <= 10 and "MaximumBatchingWindowInSeconds" not in event
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert RESOURCES[FANOUT_QUEUE]["Properties"]["VisibilityTimeout"] >= 6 * function_property("PushFanoutFunction", "Timeout")


def test_every_function_is_told_where_to_hand_status_changes():
    assert FUNCTION_GLOBALS["Environment"]["Variables"]["PUSH_FANOUT_QUEUE_URL"] == {"Ref": FANOUT_QUEUE}


@pytest.mark.parametrize("function", ["ApiFunction", *WORKERS, "DeadLetterHandlerFunction", "MaintenanceFunction"])
def test_every_function_that_changes_a_status_may_only_send_to_the_fanout_queue(function):
    policies = RESOURCES[function]["Properties"]["Policies"]
    (statement,) = RESOURCES["PushFanoutEnqueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]

    assert {"Ref": "PushFanoutEnqueuePolicy"} in policies
    assert {"Ref": "RealtimePushPolicy"} not in policies  # pushing is the fan-out function's job
    assert (statement["Action"], statement["Resource"]) == ("sqs:SendMessage", {"Fn::GetAtt": [FANOUT_QUEUE, "Arn"]})


def test_subscribe_queues_its_catch_up_in_the_books_turn():
    assert {"Ref": "PushFanoutEnqueuePolicy"} in RESOURCES["WsSubscribeFunction"]["Properties"]["Policies"]


def websocket_routes() -> dict[str, str]:
    """Route key -> the integration its target names."""
    return {
        spec["Properties"]["RouteKey"]: spec["Properties"]["Target"]["Fn::Sub"]
        for spec in resources_of_type("AWS::ApiGatewayV2::Route").values()
    }


def test_the_websocket_api_has_a_ping_route_for_keepalive():
    assert websocket_routes()["ping"] == websocket_routes()["subscribe"]
    assert "WebSocketPingRoute" in RESOURCES["WebSocketDeployment"]["DependsOn"]


def test_a_message_no_route_takes_goes_to_the_subscribe_function_not_to_forbidden():
    assert websocket_routes()["$default"] == websocket_routes()["subscribe"]
    assert "WebSocketDefaultRoute" in RESOURCES["WebSocketDeployment"]["DependsOn"]


def test_the_subscribe_function_serves_exactly_the_message_routes_its_handler_knows():
    from storywink.realtime.frames import ACTIONS
    from storywink.realtime.websocket_routes import DEFAULT_ROUTE

    served = {key for key, target in websocket_routes().items() if target == "integrations/${WebSocketSubscribeIntegration}"}

    assert served == {*ACTIONS, DEFAULT_ROUTE}


def test_every_websocket_route_is_deployed():
    routes = {name for name, spec in resources_of_type("AWS::ApiGatewayV2::Route").items()}

    assert routes == set(RESOURCES["WebSocketDeployment"]["DependsOn"])


# ---------------------------------------------------------------- functions


@pytest.mark.parametrize("worker", WORKERS)
def test_worker_reports_partial_batch_failures(worker):
    assert all(event["FunctionResponseTypes"] == ["ReportBatchItemFailures"] for event in sqs_events(worker))


@pytest.mark.parametrize("worker", WORKERS)
def test_worker_sets_a_batch_size_and_a_maximum_concurrency(worker):
    for event in sqs_events(worker):
        assert isinstance(event["BatchSize"], int) and event["BatchSize"] >= 1
        concurrency = event["ScalingConfig"]["MaximumConcurrency"]
        if isinstance(concurrency, dict):  # a parameter: its default and its floor
            parameter = TEMPLATE["Parameters"][concurrency["Ref"]]
            concurrency = min(parameter["Default"], parameter["MinValue"])
        assert concurrency >= 2  # the lowest value Lambda accepts


@pytest.mark.parametrize("worker", WORKERS)
def test_worker_may_report_its_task_outcome_to_the_state_machine(worker):
    actions = {action for statement in statements(worker) for action in statement["Action"] if action.startswith("states:")}

    # No heartbeats: the tasks have none (waiting is not failing); a worker's liveness is its job lease.
    assert actions == {"states:SendTaskSuccess", "states:SendTaskFailure"}


@pytest.mark.parametrize("function", sorted(resources_of_type("AWS::Serverless::Function")))
def test_every_function_takes_its_code_from_the_functions_folder(function):
    assert function_property(function, "CodeUri").rstrip("/") == "functions"


@pytest.mark.parametrize("function", sorted(resources_of_type("AWS::Serverless::Function")))
def test_every_function_handler_is_a_flat_module_handler(function):
    module, _, attribute = function_property(function, "Handler").partition(".")

    assert attribute == "handler"
    assert module in HANDLER_MODULES or (ROOT / "functions" / f"{module}.py").is_file()


def test_every_pipeline_handler_has_a_function():
    handlers = {function_property(name, "Handler") for name in resources_of_type("AWS::Serverless::Function")}

    assert {f"{module}.handler" for module in HANDLER_MODULES} <= handlers


def test_every_function_uses_the_shared_layer():
    assert {"Ref": "StorywinkLayer"} in FUNCTION_GLOBALS["Layers"]


def test_shared_layer_is_built_from_the_storywink_package():
    layer = RESOURCES["StorywinkLayer"]

    assert layer["Properties"]["ContentUri"] == "layers/storywink"
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert "build-StorywinkLayer:" in (ROOT / "layers" / "storywink" / "Makefile").read_text()
    assert (ROOT / "layers" / "storywink" / "storywink" / "__init__.py").is_file()


# ---------------------------------------------------------------- bucket


def test_media_bucket_blocks_all_public_access():
    block = RESOURCES["MediaBucket"]["Properties"]["PublicAccessBlockConfiguration"]

    assert block == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
    )


def test_media_bucket_is_encrypted_at_rest():
    (rule,) = RESOURCES["MediaBucket"]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]

    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}


def test_media_bucket_expires_uploads_still_tagged_as_staged():
    rules = RESOURCES["MediaBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]

    assert any(
        rule["Status"] == "Enabled"
        and {"Key": "stage", "Value": "upload"} in rule.get("TagFilters", [])
        and rule["ExpirationInDays"] >= 1
        for rule in rules
    )


# ---------------------------------------------------------------- API


def test_http_api_requires_a_cognito_jwt_by_default():
    auth = RESOURCES["HttpApi"]["Properties"]["Auth"]
    authorizer = auth["Authorizers"][auth["DefaultAuthorizer"]]["JwtConfiguration"]

    assert authorizer["issuer"] == {"Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"}
    assert authorizer["audience"] == [{"Ref": "UserPoolClient"}]


def test_only_pages_without_data_skip_the_authorizer():
    events = RESOURCES["ApiFunction"]["Properties"]["Events"].values()
    public = {
        (event["Properties"]["Method"], event["Properties"]["Path"])
        for event in events
        if event["Properties"].get("Auth", {}).get("Authorizer") == "NONE"
    }

    # Liveness, readiness, the API docs, and the queue dashboard's page (it asks for a token and calls
    # /v1/admin/queues).
    assert public == {
        ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/docs"), ("GET", "/openapi.json"), ("GET", "/admin/queues")
    }


# ---------------------------------------------------------------- state machine


def test_state_machine_definition_file_exists():
    assert (ROOT / state_machine()["DefinitionUri"]).is_file()


def test_every_definition_placeholder_has_a_substitution():
    text = (ROOT / state_machine()["DefinitionUri"]).read_text(encoding="utf-8")

    assert set(PLACEHOLDER.findall(text)) <= set(state_machine()["DefinitionSubstitutions"])


def test_every_substitution_is_used_by_the_definition():
    text = (ROOT / state_machine()["DefinitionUri"]).read_text(encoding="utf-8")

    assert set(state_machine()["DefinitionSubstitutions"]) <= set(PLACEHOLDER.findall(text))


def test_state_machine_may_send_to_every_queue_it_uses():
    queues = resources_of_type("AWS::SQS::Queue")
    queues_used = {
        value["Ref"]
        for value in state_machine()["DefinitionSubstitutions"].values()
        if isinstance(value, dict) and value.get("Ref") in queues
    }
    queues_allowed = {
        resource["Fn::GetAtt"][0]
        for policy in state_machine()["Policies"]
        for statement in policy.get("Statement", [])
        if statement["Action"] == "sqs:SendMessage"
        for resource in statement["Resource"]
    }

    assert queues_used and queues_used <= queues_allowed


# ---------------------------------------------------------------- SAM CLI


def test_sam_validate_lint_accepts_the_template(template_lints):
    lint = template_lints["sam validate"]
    if lint.process is None:
        pytest.skip("the sam CLI is not installed")
    output = "".join(lint.result())
    assert "is a valid SAM Template" in output, output
