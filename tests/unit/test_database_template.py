"""template.yaml's database, network, logs and concurrency: what `sam deploy` builds around PostgreSQL.

A cluster the stack makes (DatabaseMode create) sits in private subnets behind an RDS Proxy that
requires TLS; only the proxy and the cluster open the database port; every function that reads the
database runs in the VPC and is updated only after the schema migration; every function logs to a
group of its own with a retention, and runs with a reserved concurrency.
"""

from __future__ import annotations

import math

import pytest

from storywink.local.connection_bound import DATABASE_ACCESS_POLICY, function_bounds
from storywink.local.template import load_template, repo_root

ROOT = repo_root()
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES = TEMPLATE["Resources"]
PARAMETERS = TEMPLATE["Parameters"]
GLOBALS = TEMPLATE["Globals"]["Function"]
FUNCTIONS = {name: spec for name, spec in RESOURCES.items() if spec["Type"] == "AWS::Serverless::Function"}
DATABASE_FUNCTIONS = sorted(name for name, spec in FUNCTIONS.items() if DATABASE_ACCESS_POLICY in spec["Properties"]["Policies"])
POSTGRES = 5432


def of_type(kind: str) -> dict[str, dict]:
    return {name: spec for name, spec in RESOURCES.items() if spec["Type"] == kind}


def effective(function: str, key: str):
    """A function's property as SAM builds it: its own, else the Globals one unless it ignores it."""
    spec = FUNCTIONS[function]
    if key in spec["Properties"]:
        return spec["Properties"][key]
    return None if key in spec.get("IgnoreGlobals", []) else GLOBALS.get(key)


# ---------------------------------------------------------------- which functions reach the database


def test_the_functions_that_read_the_database_are_the_ones_expected():
    assert DATABASE_FUNCTIONS == sorted([
        "ApiFunction", "StoryWorkerFunction", "IllustrationWorkerFunction", "FinalizeWorkerFunction",
        "PdfWorkerFunction", "DeadLetterHandlerFunction", "LeaseSweeperFunction", "PushFanoutFunction",
        "WsSubscribeFunction", "DatabaseMigrationFunction", "AccountDeletionWorkerFunction", "ExportWorkerFunction",
        "AccountSweeperFunction", "ScheduledStartFunction", "BatchWorkerFunction", "MaintenanceFunction",
    ])


@pytest.mark.parametrize("function", DATABASE_FUNCTIONS)
def test_every_function_that_reads_the_database_runs_in_the_vpc(function):
    config = effective(function, "VpcConfig")
    assert config is not None
    assert config["SubnetIds"] == {"Fn::If": ["CreateDatabase", [{"Ref": "PrivateSubnetA"}, {"Ref": "PrivateSubnetB"}], {"Ref": "DatabaseSubnetIds"}]}
    assert config["SecurityGroupIds"] == {"Fn::If": ["CreateDatabase", [{"Ref": "FunctionSecurityGroup"}], {"Ref": "DatabaseSecurityGroupIds"}]}


@pytest.mark.parametrize("function", sorted(set(FUNCTIONS) - set(DATABASE_FUNCTIONS)))
def test_a_function_that_needs_no_database_stays_outside_the_vpc(function):
    assert effective(function, "VpcConfig") is None


def test_the_private_subnets_are_in_two_availability_zones():
    zones = [RESOURCES[name]["Properties"]["AvailabilityZone"] for name in ("PrivateSubnetA", "PrivateSubnetB")]
    assert zones == [{"Fn::Select": [0, {"Fn::GetAZs": ""}]}, {"Fn::Select": [1, {"Fn::GetAZs": ""}]}]
    subnets = [RESOURCES["DatabaseSubnetGroup"]["Properties"]["SubnetIds"], RESOURCES["DatabaseProxy"]["Properties"]["VpcSubnetIds"]]
    assert all(ids == [{"Ref": "PrivateSubnetA"}, {"Ref": "PrivateSubnetB"}] for ids in subnets)


@pytest.mark.parametrize("service", ["sqs", "states", "secretsmanager", "monitoring", "s3", "dynamodb"])
def test_every_aws_service_the_functions_call_has_a_vpc_endpoint(service):
    endpoints = of_type("AWS::EC2::VPCEndpoint").values()
    names = [spec["Properties"]["ServiceName"] for spec in endpoints]
    assert {"Fn::Sub": f"com.amazonaws.${{AWS::Region}}.{service}"} in names


def test_what_has_no_endpoint_is_reached_through_a_nat_gateway():
    route = RESOURCES["PrivateDefaultRoute"]["Properties"]
    assert route["DestinationCidrBlock"] == "0.0.0.0/0" and route["NatGatewayId"] == {"Ref": "NatGateway"}


# ---------------------------------------------------------------- who may open the database port


def _opens(rule: dict, port: int) -> bool:
    if str(rule.get("IpProtocol")) == "-1":
        return rule.get("CidrIp") != "127.0.0.1/32"
    return int(rule.get("FromPort", -1)) <= port <= int(rule.get("ToPort", -1))


def ingress_rules() -> list[tuple[str, dict]]:
    """(security group, rule) for every inbound rule, inline or a resource of its own."""
    rules = [(name, rule) for name, spec in of_type("AWS::EC2::SecurityGroup").items() for rule in spec["Properties"].get("SecurityGroupIngress", [])]
    rules += [(spec["Properties"]["GroupId"]["Ref"], spec["Properties"]) for spec in of_type("AWS::EC2::SecurityGroupIngress").values()]
    return rules


def test_only_the_proxy_and_the_cluster_open_the_database_port():
    openers = {(group, rule.get("SourceSecurityGroupId", {}).get("Ref", rule.get("CidrIp"))) for group, rule in ingress_rules() if _opens(rule, POSTGRES)}
    assert openers == {("ProxySecurityGroup", "FunctionSecurityGroup"), ("DatabaseSecurityGroup", "ProxySecurityGroup")}


def test_the_cluster_and_the_proxy_are_in_their_own_groups():
    assert RESOURCES["DatabaseCluster"]["Properties"]["VpcSecurityGroupIds"] == [{"Ref": "DatabaseSecurityGroup"}]
    assert RESOURCES["DatabaseProxy"]["Properties"]["VpcSecurityGroupIds"] == [{"Ref": "ProxySecurityGroup"}]


# ---------------------------------------------------------------- the cluster and the proxy


def test_the_cluster_is_aurora_postgresql_16_serverless_v2_encrypted_with_backups():
    cluster = RESOURCES["DatabaseCluster"]
    properties = cluster["Properties"]
    assert cluster["Condition"] == "CreateDatabase"
    assert properties["Engine"] == "aurora-postgresql" and properties["EngineVersion"].startswith("16.")
    assert properties["ServerlessV2ScalingConfiguration"] == {"MinCapacity": {"Ref": "DatabaseMinCapacity"}, "MaxCapacity": {"Ref": "DatabaseMaxCapacity"}}
    assert properties["StorageEncrypted"] is True
    assert properties["BackupRetentionPeriod"] == {"Ref": "DatabaseBackupRetentionDays"}
    assert properties["ManageMasterUserPassword"] is True  # RDS keeps and rotates the secret
    writer = RESOURCES["DatabaseWriter"]["Properties"]
    assert writer["DBInstanceClass"] == "db.serverless" and writer["PubliclyAccessible"] is False


def test_the_cluster_survives_deletion_outside_dev():
    cluster = RESOURCES["DatabaseCluster"]
    assert cluster["DeletionPolicy"] == "Snapshot" and cluster["UpdateReplacePolicy"] == "Snapshot"
    assert cluster["Properties"]["DeletionProtection"] == {"Fn::If": ["IsDev", False, True]}


def test_the_cluster_and_the_proxy_refuse_plaintext():
    assert RESOURCES["DatabaseClusterParameterGroup"]["Properties"]["Parameters"] == {"rds.force_ssl": "1"}
    proxy = RESOURCES["DatabaseProxy"]["Properties"]
    assert proxy["RequireTLS"] is True and proxy["EngineFamily"] == "POSTGRESQL"
    (auth,) = proxy["Auth"]
    assert auth["SecretArn"] == {"Fn::GetAtt": ["DatabaseCluster", "MasterUserSecret.SecretArn"]}


def test_the_functions_connect_through_the_proxy_with_the_clusters_secret():
    variables = GLOBALS["Environment"]["Variables"]
    assert variables["DATABASE_HOST"] == {"Fn::If": ["CreateDatabase", {"Fn::GetAtt": ["DatabaseProxy", "Endpoint"]}, {"Ref": "AWS::NoValue"}]}
    assert variables["DATABASE_SECRET_ARN"] == {
        "Fn::If": ["CreateDatabase", {"Fn::GetAtt": ["DatabaseCluster", "MasterUserSecret.SecretArn"]}, {"Ref": "DatabaseSecretArn"}]
    }
    (statement,) = RESOURCES["DatabaseAccessPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "secretsmanager:GetSecretValue"
    assert statement["Resource"] == variables["DATABASE_SECRET_ARN"]


def test_a_read_endpoint_is_given_for_read_scaling():
    output = TEMPLATE["Outputs"]["DatabaseReadEndpoint"]["Value"]
    assert output == {"Fn::If": ["HasDatabaseReader", {"Fn::GetAtt": ["DatabaseProxyReadEndpoint", "Endpoint"]}, {"Fn::GetAtt": ["DatabaseProxy", "Endpoint"]}]}
    assert RESOURCES["DatabaseProxyReadEndpoint"]["Properties"]["TargetRole"] == "READ_ONLY"


def test_an_existing_database_must_be_named_with_its_network():
    assertions = TEMPLATE["Rules"]["ExistingDatabaseIsNamed"]["Assertions"]
    named = {str(assertion["Assert"]) for assertion in assertions}
    assert all(any(parameter in text for text in named) for parameter in ("DatabaseSecretArn", "DatabaseSubnetIds", "DatabaseSecurityGroupIds"))


# ---------------------------------------------------------------- migrations on deploy


def test_every_deploy_with_new_code_migrates_before_the_functions_change():
    migration = RESOURCES["DatabaseMigration"]
    assert migration["Type"] == "Custom::DatabaseMigration"
    assert migration["Properties"]["ServiceToken"] == {"Fn::GetAtt": ["DatabaseMigrationFunction", "Arn"]}
    assert migration["Properties"]["CodeVersion"] == {"Ref": "StorywinkLayer"}
    for function in set(DATABASE_FUNCTIONS) - {"DatabaseMigrationFunction"}:
        assert FUNCTIONS[function].get("DependsOn") == "DatabaseMigration", function


def test_the_migration_waits_for_the_proxy_to_reach_the_cluster():
    assert RESOURCES["DatabaseMigration"]["Properties"]["Database"] == {
        "Fn::If": ["CreateDatabase", {"Ref": "DatabaseProxyTargetGroup"}, {"Ref": "DatabaseSecretArn"}]
    }


# ---------------------------------------------------------------- logs, traces, concurrency


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_function_logs_to_a_group_of_its_own_with_a_retention(function):
    group = effective(function, "LoggingConfig")["LogGroup"]["Ref"]
    assert RESOURCES[group]["Type"] == "AWS::Logs::LogGroup"
    assert RESOURCES[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    others = [name for name in FUNCTIONS if name != function and effective(name, "LoggingConfig")["LogGroup"]["Ref"] == group]
    assert others == []


def test_every_log_group_keeps_logs_for_the_retention_parameter():
    for name, spec in of_type("AWS::Logs::LogGroup").items():
        assert spec["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name


def test_traces_never_record_responses_or_error_payloads():
    variables = GLOBALS["Environment"]["Variables"]
    assert variables["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
    assert variables["POWERTOOLS_TRACER_CAPTURE_ERROR"] == "false"


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_function_has_a_reserved_concurrency(function):
    reserved = FUNCTIONS[function]["Properties"]["ReservedConcurrentExecutions"]
    assert reserved == 1 or PARAMETERS[reserved["Ref"]]["Type"] == "Number"


@pytest.mark.parametrize("function", ["FinalizeWorkerFunction", "PdfWorkerFunction", "PushFanoutFunction"])
def test_a_single_queue_workers_mapping_follows_its_reserved_concurrency(function):
    reserved = FUNCTIONS[function]["Properties"]["ReservedConcurrentExecutions"]
    (event,) = [event for event in FUNCTIONS[function]["Properties"]["Events"].values() if event["Type"] == "SQS"]
    assert event["Properties"]["ScalingConfig"]["MaximumConcurrency"] == reserved


def test_the_dead_letter_handlers_mappings_fit_its_reserved_concurrency():
    events = FUNCTIONS["DeadLetterHandlerFunction"]["Properties"]["Events"].values()
    assert sum(event["Properties"]["ScalingConfig"]["MaximumConcurrency"] for event in events) <= PARAMETERS["DeadLetterHandlerConcurrency"]["MinValue"]


def test_every_database_function_counts_in_the_connection_bound():
    bounds = {bound.function: bound for bound in function_bounds(ROOT / "template.yaml")}
    assert sorted(bounds) == DATABASE_FUNCTIONS
    assert all(bound.limited_by == "reserved" and bound.containers < math.inf for bound in bounds.values())


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_every_samconfig_override_is_a_parameter_with_an_allowed_value(environment):
    import tomllib

    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    overrides = dict(pair.split("=", 1) for pair in config[environment]["deploy"]["parameters"]["parameter_overrides"].split())
    for name, value in overrides.items():
        spec = PARAMETERS[name]
        if "AllowedValues" in spec:
            assert value in [str(allowed) for allowed in spec["AllowedValues"]], (name, value)
        if spec["Type"] == "Number":
            assert spec.get("MinValue", -math.inf) <= float(value) <= spec.get("MaxValue", math.inf), (name, value)
