"""Create the template's queues, bucket, tables and state machine in moto, from template.yaml itself.

Nothing here names a queue or a setting: every property comes from the template (and the state
machine's definition file), resolved the way CloudFormation would.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storywink.local.intrinsics import (
    NO_VALUE,
    ResolveContext,
    Unresolvable,
    evaluate_conditions,
    parameter_values,
    resolve,
)
from storywink.local.runtime import REAL_TIME_FLOOR_SECONDS
from storywink.local.sqs_poller import EventSourceMapping
from storywink.local.template import load_template

ACCOUNT = "123456789012"
LOCAL_ROLE = f"arn:aws:iam::{ACCOUNT}:role/storywink-local"
QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "SqsManagedSseEnabled",
    # FIFO queues (the push fan-out): one message group at a time, in order, deduplicated.
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
)


@dataclass(frozen=True)
class Schedule:
    """A function the template runs on a fixed rate (a Schedule or ScheduleV2 event)."""

    function_name: str
    handler: str
    rate_seconds: float
    timeout_seconds: float


RATE_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def rate_seconds(expression: str) -> float:
    """rate(1 minute) -> 60.0; cron expressions are not supported locally."""
    match = re.fullmatch(r"rate\((\d+) (\w+)\)", expression.strip())
    if match is None or match.group(2) not in RATE_UNITS:
        raise ValueError(f"the local stack runs rate(N unit) schedules only, not {expression!r}")
    return int(match.group(1)) * RATE_UNITS[match.group(2)]


@dataclass
class LocalResources:
    stack_name: str
    region: str
    queue_urls: dict[str, str] = field(default_factory=dict)
    queue_arns: dict[str, str] = field(default_factory=dict)
    buckets: dict[str, str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)
    state_machines: dict[str, str] = field(default_factory=dict)
    definitions: dict[str, str] = field(default_factory=dict)
    mappings: list[EventSourceMapping] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    # EventBridge Scheduler groups (logical id -> name): the functions make one-time schedules in them.
    schedule_groups: dict[str, str] = field(default_factory=dict)
    # Each function's ARN -> its logical id (what a schedule's target names).
    function_arns: dict[str, str] = field(default_factory=dict)
    # Function (logical id) -> its ReservedConcurrentExecutions, where the template sets one.
    reserved_concurrency: dict[str, int] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    # WebSocket API route key -> the function (logical id) its integration invokes.
    websocket_routes: dict[str, str] = field(default_factory=dict)
    websocket_route_selection: str = ""
    # The function (logical id) the HTTP API's routes invoke: locally its app serves under uvicorn.
    http_api_function: str = ""
    # Environment variables that point at cloud-only resources (Cognito, Secrets Manager): the local stack supplies its own.
    unresolved_environment: dict[str, str] = field(default_factory=dict)
    # The flag document of the template's AppConfig hosted configuration; locally it is served from a file.
    feature_flags: str | None = None


def substitute_definition(text: str, substitutions: dict[str, Any]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in substitutions:
            raise KeyError(f"definition uses ${{{name}}} but the template gives no DefinitionSubstitutions entry")
        return str(substitutions[name])

    return re.sub(r"\$\{([A-Za-z0-9_]+)\}", replace, text)


class TemplateProvisioner:
    def __init__(
        self,
        template_path: Path,
        clients: Any,
        stack_name: str,
        region: str,
        parameters: dict[str, Any],
        time_scale: float = 1.0,
    ):
        self.root = template_path.parent
        # Durations the cloud counts down (visibility timeouts, Lambda timeouts, schedules) run this much faster.
        self.time_scale = time_scale
        self.template = load_template(template_path)
        self.clients = clients  # callable: service name -> boto3 client
        self.result = LocalResources(stack_name=stack_name, region=region)
        self.ctx = ResolveContext(
            parameters={
                **parameter_values(self.template, parameters),
                "AWS::Region": region,
                "AWS::AccountId": ACCOUNT,
                "AWS::StackName": stack_name,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
            },
            mappings=self.template.get("Mappings", {}),
        )
        evaluate_conditions(self.template, self.ctx)

    def resources(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        """The template's resources of ``kind`` that its conditions create (the log bucket may be off)."""
        return [
            (name, spec)
            for name, spec in self.template["Resources"].items()
            if spec["Type"] == kind and self.ctx.conditions.get(spec.get("Condition", ""), "Condition" not in spec)
        ]

    def provision(self) -> LocalResources:
        self._queues()
        self._buckets()
        self._tables()
        self._state_machines()
        self._schedule_groups()
        self._names_of_roles_and_functions()
        self._functions()
        self._websocket_routes()
        self._feature_flags()
        return self.result

    def physical_name(self, logical_id: str) -> str:
        return f"{self.result.stack_name}-{logical_id}"

    def _queues(self) -> None:
        sqs = self.clients("sqs")
        pending = dict(self.resources("AWS::SQS::Queue"))
        while pending:
            progressed = False
            for logical_id, spec in list(pending.items()):
                try:
                    properties = resolve(spec.get("Properties", {}), self.ctx)
                except Unresolvable:
                    continue  # waits for the queue it points at (a DLQ) to exist
                attributes = {k: str(properties[k]).lower() if isinstance(properties[k], bool) else str(properties[k])
                              for k in QUEUE_ATTRIBUTES if k in properties}
                for timed in ("VisibilityTimeout", "DelaySeconds"):
                    if timed in attributes and int(attributes[timed]) > 0:
                        attributes[timed] = str(max(1, math.ceil(int(attributes[timed]) * self.time_scale)))
                if "VisibilityTimeout" in attributes and self.time_scale < 1:
                    # Never shorter than a scaled Lambda timeout can be (see REAL_TIME_FLOOR_SECONDS).
                    floor = math.ceil(REAL_TIME_FLOOR_SECONDS)
                    attributes["VisibilityTimeout"] = str(max(int(attributes["VisibilityTimeout"]), floor))
                if "RedrivePolicy" in properties:
                    attributes["RedrivePolicy"] = json.dumps(properties["RedrivePolicy"])
                name = properties.get("QueueName") or self.physical_name(logical_id)
                url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
                arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                self.result.queue_urls[logical_id], self.result.queue_arns[logical_id] = url, arn
                self.ctx.refs[logical_id] = url
                self.ctx.attributes[logical_id] = {"Arn": arn, "QueueUrl": url, "QueueName": name}
                del pending[logical_id]
                progressed = True
            if not progressed:
                raise Unresolvable(f"queues reference something the local stack cannot create: {sorted(pending)}")

    def _buckets(self) -> None:
        """Buckets, each after the one it logs to. Their policies are not applied: moto does not enforce
        them, and the local endpoint is plain HTTP, which the TLS-only policy would refuse."""
        s3 = self.clients("s3")
        pending = dict(self.resources("AWS::S3::Bucket"))
        while pending:
            ready = []
            for logical_id, spec in pending.items():
                try:
                    ready.append((logical_id, resolve(spec.get("Properties", {}), self.ctx)))
                except Unresolvable:
                    continue  # waits for its log bucket
            if not ready:
                raise Unresolvable(f"buckets reference something the local stack cannot create: {sorted(pending)}")
            for logical_id, properties in ready:
                self._bucket(s3, logical_id, properties)
                del pending[logical_id]

    def _bucket(self, s3: Any, logical_id: str, properties: dict[str, Any]) -> None:
        name = properties.get("BucketName") or self.physical_name(logical_id).lower()
        s3.create_bucket(Bucket=name)
        if "CorsConfiguration" in properties:
            s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [
                {
                    "AllowedMethods": rule["AllowedMethods"],
                    "AllowedOrigins": rule["AllowedOrigins"],
                    **({"AllowedHeaders": rule["AllowedHeaders"]} if "AllowedHeaders" in rule else {}),
                    **({"ExposeHeaders": rule["ExposedHeaders"]} if "ExposedHeaders" in rule else {}),
                    **({"MaxAgeSeconds": int(rule["MaxAge"])} if "MaxAge" in rule else {}),
                }
                for rule in properties["CorsConfiguration"]["CorsRules"]
            ]})
        if "BucketEncryption" in properties:
            s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {
                            # CloudFormation's name for the field the S3 API calls ApplyServerSideEncryptionByDefault.
                            "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                            **({"BucketKeyEnabled": rule["BucketKeyEnabled"]} if "BucketKeyEnabled" in rule else {}),
                        }
                        for rule in properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
                    ]
                },
            )
        if "PublicAccessBlockConfiguration" in properties:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=properties["PublicAccessBlockConfiguration"]
            )
        self.result.buckets[logical_id] = name
        self.ctx.refs[logical_id] = name
        self.ctx.attributes[logical_id] = {"Arn": f"arn:aws:s3:::{name}", "DomainName": f"{name}.s3.amazonaws.com"}

    def _tables(self) -> None:
        dynamodb = self.clients("dynamodb")
        for logical_id, spec in self.resources("AWS::DynamoDB::Table"):
            properties = resolve(spec.get("Properties", {}), self.ctx)
            name = properties.get("TableName") or self.physical_name(logical_id)
            request: dict[str, Any] = {
                "TableName": name,
                "KeySchema": properties["KeySchema"],
                "AttributeDefinitions": properties["AttributeDefinitions"],
                "BillingMode": properties.get("BillingMode", "PAY_PER_REQUEST"),
            }
            if properties.get("GlobalSecondaryIndexes"):
                request["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
            arn = dynamodb.create_table(**request)["TableDescription"]["TableArn"]
            ttl = properties.get("TimeToLiveSpecification")
            if ttl and ttl.get("Enabled"):
                dynamodb.update_time_to_live(
                    TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
                )
            self.result.tables[logical_id] = name
            self.ctx.refs[logical_id] = name
            self.ctx.attributes[logical_id] = {"Arn": arn}

    def _state_machines(self) -> None:
        sfn = self.clients("stepfunctions")
        for logical_id, spec in self.resources("AWS::Serverless::StateMachine"):
            properties = spec["Properties"]
            substitutions = resolve(properties.get("DefinitionSubstitutions", {}), self.ctx)
            text = (self.root / properties["DefinitionUri"]).read_text()
            definition = substitute_definition(text, substitutions)
            json.loads(definition)  # the substituted definition must be valid JSON
            name = properties.get("Name") or self.physical_name(logical_id)
            arn = sfn.create_state_machine(
                name=name, definition=definition, roleArn=LOCAL_ROLE, type=properties.get("Type", "STANDARD")
            )["stateMachineArn"]
            self.result.state_machines[logical_id] = arn
            self.result.definitions[logical_id] = definition
            self.ctx.refs[logical_id] = arn
            self.ctx.attributes[logical_id] = {"Arn": arn, "Name": name}

    def _schedule_groups(self) -> None:
        scheduler = self.clients("scheduler")
        for logical_id, spec in self.resources("AWS::Scheduler::ScheduleGroup"):
            properties = resolve(spec.get("Properties", {}), self.ctx)
            name = properties.get("Name") or self.physical_name(logical_id)
            arn = scheduler.create_schedule_group(Name=name)["ScheduleGroupArn"]
            self.result.schedule_groups[logical_id] = name
            self.ctx.refs[logical_id] = name
            self.ctx.attributes[logical_id] = {"Arn": arn}

    def _names_of_roles_and_functions(self) -> None:
        """The ARNs the functions' settings name (a schedule's target and role). Nothing is created: the local
        stack invokes the functions in-process and moto asks no role of a schedule."""
        for logical_id, _ in self.resources("AWS::IAM::Role"):
            name = self.physical_name(logical_id)
            self.ctx.refs[logical_id] = name
            self.ctx.attributes[logical_id] = {"Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}"}
        for logical_id, _ in self.resources("AWS::Serverless::Function"):
            name = self.physical_name(logical_id)
            arn = f"arn:aws:lambda:{self.result.region}:{ACCOUNT}:function:{name}"
            self.result.function_arns[arn] = logical_id
            self.ctx.refs[logical_id] = name
            self.ctx.attributes[logical_id] = {"Arn": arn}

    def _functions(self) -> None:
        globals_ = self.template.get("Globals", {}).get("Function", {})
        environment: dict[str, str] = {}
        for logical_id, spec in [(None, {"Properties": globals_})] + self.resources("AWS::Serverless::Function"):
            for key, raw in spec["Properties"].get("Environment", {}).get("Variables", {}).items():
                try:
                    value = resolve(raw, self.ctx)
                except Unresolvable as missing:
                    self.result.unresolved_environment[key] = str(missing)
                    continue
                if value is NO_VALUE:
                    continue  # !If [..., !Ref AWS::NoValue]: CloudFormation leaves the variable out
                value = ",".join(value) if isinstance(value, list) else str(value)
                if environment.get(key, value) != value:
                    raise ValueError(f"{key} differs between functions; the in-process local stack shares one environment")
                environment[key] = value
            if logical_id is not None:
                self._event_sources(logical_id, spec["Properties"], globals_)
        self.result.environment = environment

    def _event_sources(self, logical_id: str, properties: dict[str, Any], globals_: dict[str, Any]) -> None:
        if "ReservedConcurrentExecutions" in properties:
            self.result.reserved_concurrency[logical_id] = int(resolve(properties["ReservedConcurrentExecutions"], self.ctx))
        for event in properties.get("Events", {}).values():
            if event["Type"] == "HttpApi":
                self.result.http_api_function = logical_id
            if event["Type"] in ("Schedule", "ScheduleV2"):
                schedule = resolve(event["Properties"], self.ctx)
                self.result.schedules.append(
                    Schedule(
                        function_name=logical_id,
                        handler=properties.get("Handler", globals_.get("Handler", "")),
                        rate_seconds=rate_seconds(schedule.get("ScheduleExpression") or schedule["Schedule"]) * self.time_scale,
                        timeout_seconds=int(properties.get("Timeout", globals_.get("Timeout", 3))) * self.time_scale,
                    )
                )
                continue
            if event["Type"] != "SQS":
                continue
            source = resolve(event["Properties"], self.ctx)
            queue_logical_id = next(k for k, v in self.result.queue_arns.items() if v == source["Queue"])
            self.result.mappings.append(
                EventSourceMapping(
                    function_name=logical_id,
                    handler=properties.get("Handler", globals_.get("Handler", "")),
                    queue_logical_id=queue_logical_id,
                    queue_url=self.result.queue_urls[queue_logical_id],
                    queue_arn=source["Queue"],
                    batch_size=int(source.get("BatchSize", 10)),
                    report_batch_item_failures="ReportBatchItemFailures" in source.get("FunctionResponseTypes", []),
                    maximum_concurrency=int(source.get("ScalingConfig", {}).get("MaximumConcurrency", 2)),
                    timeout_seconds=int(properties.get("Timeout", globals_.get("Timeout", 3))) * self.time_scale,
                    memory_mb=int(properties.get("MemorySize", globals_.get("MemorySize", 128))),
                )
            )

    def _websocket_routes(self) -> None:
        apis = [name for name, spec in self.resources("AWS::ApiGatewayV2::Api")
                if spec["Properties"].get("ProtocolType") == "WEBSOCKET"]
        if not apis:
            return
        api = apis[0]
        self.result.websocket_route_selection = self.template["Resources"][api]["Properties"]["RouteSelectionExpression"]
        integrations = dict(self.resources("AWS::ApiGatewayV2::Integration"))
        for _, spec in self.resources("AWS::ApiGatewayV2::Route"):
            properties = spec["Properties"]
            if properties["ApiId"] != {"Ref": api}:
                continue
            target = properties["Target"]["Fn::Sub"]  # integrations/${SomeIntegration}
            integration = re.fullmatch(r"integrations/\$\{(\w+)\}", target).group(1)
            uri = integrations[integration]["Properties"]["IntegrationUri"]["Fn::Sub"]
            function = re.search(r"\$\{(\w+)\.Arn\}", uri).group(1)
            self.result.websocket_routes[properties["RouteKey"]] = function

    def _feature_flags(self) -> None:
        versions = self.resources("AWS::AppConfig::HostedConfigurationVersion")
        if len(versions) > 1:
            raise ValueError("the local stack serves one feature flag document; the template has several")
        for _, spec in versions:
            content = resolve(spec["Properties"]["Content"], self.ctx)
            json.loads(content)  # the document must be valid JSON
            self.result.feature_flags = content

    def timeout_of(self, function_logical_id: str) -> float:
        """The function's Timeout (or the Globals'), in the stack's time scale."""
        spec = self.template["Resources"][function_logical_id]["Properties"]
        globals_ = self.template.get("Globals", {}).get("Function", {})
        return int(spec.get("Timeout", globals_.get("Timeout", 3))) * self.time_scale

    def handler_of(self, function_logical_id: str) -> str:
        return self.template["Resources"][function_logical_id]["Properties"]["Handler"]

    def code_uri(self, function_logical_id: str) -> Path:
        spec = self.template["Resources"][function_logical_id]["Properties"]
        code_uri = spec.get("CodeUri") or self.template.get("Globals", {}).get("Function", {}).get("CodeUri")
        return self.root / code_uri
