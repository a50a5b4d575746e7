"""env.json, the `--env-vars` file of `sam local invoke` / `start-api`: every function of template.yaml has
an entry, sets only variables it reads, and is pointed at the local stack as a Docker container reaches it
when the stack runs as README's sam local recipe starts it. `sam local` needs Docker, so this file and
that recipe are what can be tested here."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from itertools import pairwise, takewhile
from urllib.parse import urlsplit

import pytest
from sqlalchemy import make_url

from storywink.config import Settings
from storywink.db.tls import tls_connect_args
from storywink.local.cli import build_parser
from storywink.local.stack import LOCAL_AUDIENCE, LOCAL_ISSUER, REGION
from storywink.local.template import load_template, repo_root

ROOT = repo_root()
TEMPLATE = load_template(ROOT / "template.yaml")
ENV_FILE = json.loads((ROOT / "env.json").read_text(encoding="utf-8"))
SHARED = ENV_FILE["Parameters"]  # sam local gives these to every function; an entry's own win
FUNCTIONS = sorted(name for name, spec in TEMPLATE["Resources"].items() if spec["Type"] == "AWS::Serverless::Function")
# A container reaches the machine it runs on by this name (Docker Desktop; elsewhere --add-host).
HOST = "host.docker.internal"
# Read by Powertools itself rather than by storywink.config (boto3's AWS_ENDPOINT_URL is in both).
POWERTOOLS_VARIABLES = {"LOG_LEVEL"}
# sam local overrides only the variables a function declares. These only sam local sets: the template
# declares them blank (unset, or the default, in the cloud).
SAM_LOCAL_ONLY = {"DATABASE_URL", "AWS_ENDPOINT_URL", "DATABASE_TLS"}
README = (ROOT / "README.md").read_text(encoding="utf-8")


def recipe(program: str) -> tuple[dict[str, str], list[str]]:
    """The environment and arguments of the command of README's sam local recipe that runs ``program``."""
    section = README.split("### sam local (with Docker)", 1)[1].split("\n## ", 1)[0]
    shell = "\n".join(re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)).replace("\\\n", " ")
    for words in (shlex.split(line, comments=True) for line in shell.splitlines()):
        assignments = list(takewhile(re.compile(r"[A-Z_][A-Z0-9_]*=").match, words))
        command = words[len(assignments) :]
        if command and command[0].rsplit("/", 1)[-1] == program:
            return dict(word.split("=", 1) for word in assignments), command[1:]
    raise AssertionError(f"README's sam local recipe runs no {program}")


def options_of(arguments: list[str], option: str) -> list[str]:
    return [value for flag, value in pairwise(arguments) if flag == option]


def variables_of(function: str) -> dict[str, str]:
    return {**SHARED, **ENV_FILE.get(function, {})}


def declared_variables(function: str) -> set[str]:
    globals_ = TEMPLATE["Globals"]["Function"].get("Environment", {}).get("Variables", {})
    own = TEMPLATE["Resources"][function]["Properties"].get("Environment", {}).get("Variables", {})
    return set(globals_) | set(own)


def is_read(variable: str) -> bool:
    settings = {field.alias for field in Settings.model_fields.values()}
    return variable in settings or variable in POWERTOOLS_VARIABLES or variable.startswith("POWERTOOLS_")


# Run in a process of its own: moto's in-process mock resets every backend when it ends, the session's moto
# server's too.
PROVISION = """
import json, sys
import boto3
from moto import mock_aws
from storywink.local.resources import TemplateProvisioner
from storywink.local.stack import LOCAL_PARAMETERS, REGION
from storywink.local.template import repo_root

with mock_aws():
    clients = lambda service: boto3.client(service, region_name=REGION)
    provisioner = TemplateProvisioner(
        repo_root() / "template.yaml", clients, stack_name="storywink-local", region=REGION, parameters=LOCAL_PARAMETERS
    )
    json.dump(provisioner.provision().environment, sys.stdout)
"""


@pytest.fixture(scope="module")
def local_stack_environment() -> dict[str, str]:
    """What the local stack gives its functions: the template's variables resolved against the queues,
    bucket, table and state machine it creates (built here in moto's mock)."""
    environment = {name: value for name, value in os.environ.items() if name != "AWS_ENDPOINT_URL"}
    result = subprocess.run(
        [sys.executable, "-c", PROVISION], env=environment, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    mock_endpoint = f"https://sqs.{REGION}.amazonaws.com"
    moto = SHARED["AWS_ENDPOINT_URL"]
    return {name: value.replace(mock_endpoint, moto) for name, value in json.loads(result.stdout).items()}


def test_every_function_in_the_template_has_an_entry():
    assert set(FUNCTIONS) - set(ENV_FILE) == set()


def test_every_entry_is_a_function_of_the_template():
    assert set(ENV_FILE) - {"Parameters"} - set(FUNCTIONS) == set()


@pytest.mark.parametrize("function", sorted(set(ENV_FILE) - {"Parameters"}))
def test_every_function_reaches_moto_and_the_local_database_never_aws(function):
    variables = variables_of(function)

    assert urlsplit(variables["AWS_ENDPOINT_URL"]).hostname == HOST
    assert urlsplit(variables["DATABASE_URL"]).hostname == HOST
    assert variables["DATABASE_URL"].startswith("postgresql+pg8000://")


@pytest.mark.parametrize("function", sorted(set(ENV_FILE) - {"Parameters"}))
def test_every_variable_set_is_one_storywink_or_its_runtime_reads(function):
    assert [variable for variable in variables_of(function) if not is_read(variable)] == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_variable_set_is_declared_for_the_function_so_sam_local_applies_it(function):
    assert set(variables_of(function)) - declared_variables(function) == set()


def test_the_template_declares_the_variables_only_sam_local_sets_and_leaves_them_blank():
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert {name: variables.get(name) for name in SAM_LOCAL_ONLY} == dict.fromkeys(SAM_LOCAL_ONLY, "")


def test_every_resource_named_is_the_one_the_local_stack_creates(local_stack_environment):
    for function in sorted(set(ENV_FILE) - {"Parameters"}):
        for name, value in ENV_FILE[function].items():
            if name in local_stack_environment:
                assert value == local_stack_environment[name], f"{function}: {name}"


def test_every_endpoint_is_the_local_stacks_as_the_recipe_runs_it_and_a_container_reaches_it():
    _, arguments = recipe("storywink")
    dev = build_parser().parse_args(arguments)
    values = {name: value for function in ENV_FILE.values() for name, value in function.items()}

    assert dev.command == "dev"
    assert dev.host == "0.0.0.0"  # a container reaches this machine through Docker's network, not its loopback
    assert values["AUTH_JWKS_URL"] == f"http://{HOST}:{dev.port}/.well-known/jwks.json"
    assert (values["AUTH_ISSUER"], values["AUTH_AUDIENCE"]) == (LOCAL_ISSUER, LOCAL_AUDIENCE)
    assert values["WEBSOCKET_ENDPOINT"] == f"http://{HOST}:{dev.websocket_port}"
    assert values["AWS_ENDPOINT_URL"] == f"http://{HOST}:{dev.moto_port}"


def test_the_database_is_the_recipes_server_as_a_container_reaches_it():
    environment, _ = recipe("storywink")
    _, docker = recipe("docker")
    stack, functions = make_url(environment["DATABASE_URL"]), make_url(SHARED["DATABASE_URL"])

    assert (stack.host, functions.host) == ("127.0.0.1", HOST)
    assert (stack.username, stack.password, stack.port, stack.database) == (
        functions.username, functions.password, functions.port, functions.database
    )
    assert f"{functions.port}:5432" in options_of(docker, "-p")
    assert dict(value.split("=", 1) for value in options_of(docker, "-e")) == {
        "POSTGRES_USER": functions.username, "POSTGRES_PASSWORD": functions.password, "POSTGRES_DB": functions.database
    }


def test_the_recipes_stack_may_reach_its_server_without_tls():
    environment, _ = recipe("storywink")
    settings = Settings(DATABASE_URL=environment["DATABASE_URL"], DATABASE_TLS=environment.get("DATABASE_TLS"))

    assert tls_connect_args(settings, make_url(settings.database_url)) == {"ssl_context": False}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_may_reach_the_recipes_server_without_tls_under_sam_local(function):
    variables = variables_of(function)
    settings = Settings(
        DATABASE_URL=variables["DATABASE_URL"], DATABASE_TLS=variables.get("DATABASE_TLS"), AWS_SAM_LOCAL="true"
    )

    assert tls_connect_args(settings, make_url(settings.database_url)) == {"ssl_context": False}


def test_one_value_per_variable_across_functions():
    seen: dict[str, set[str]] = {}
    for function in ENV_FILE.values():
        for name, value in function.items():
            seen.setdefault(name, set()).add(value)

    assert {name: values for name, values in seen.items() if len(values) > 1} == {}

