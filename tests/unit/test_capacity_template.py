"""template.yaml's capacity promises: the workers' concurrency follows each AI provider's limits, split
between a standard and a reserved premium line, and every function estimates waits from the same numbers.

CloudFormation cannot do arithmetic, so the rule the parameters' descriptions state is checked here, for
the defaults and for every environment's overrides in samconfig.toml.
"""

from __future__ import annotations

import tomllib

import pytest

from storywink.config import Settings
from storywink.local.template import load_template, repo_root

ROOT = repo_root()
TEMPLATE = load_template(ROOT / "template.yaml")
PARAMETERS = TEMPLATE["Parameters"]
RESOURCES = TEMPLATE["Resources"]
GLOBAL_VARIABLES = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
ENVIRONMENTS = ["dev", "staging", "prod"]
# provider -> its worker, and each line's queue with the parameter that sets its concurrency
PROVIDERS = {
    "Story": ("StoryWorkerFunction", {"StoryQueue": "StoryConcurrency", "PriorityStoryQueue": "PriorityStoryConcurrency"}),
    "Illustration": (
        "IllustrationWorkerFunction",
        {"IllustrationQueue": "IllustrationConcurrency", "PriorityIllustrationQueue": "PriorityIllustrationConcurrency"},
    ),
}
# the variable every function reads (Settings) -> the parameter that sets it
ADMISSION_VARIABLES = {
    "STORY_CONCURRENCY": "StoryConcurrency",
    "PRIORITY_STORY_CONCURRENCY": "PriorityStoryConcurrency",
    "ILLUSTRATION_CONCURRENCY": "IllustrationConcurrency",
    "PRIORITY_ILLUSTRATION_CONCURRENCY": "PriorityIllustrationConcurrency",
    "ILLUSTRATION_MAX_CONCURRENCY": "IllustrationMaxConcurrency",
    "STORY_SECONDS_PER_REQUEST": "StoryProviderSecondsPerRequest",
    "ILLUSTRATION_SECONDS_PER_REQUEST": "IllustrationProviderSecondsPerRequest",
}


def parameter_values(environment: str | None) -> dict[str, float]:
    """Every number parameter's value in an environment (its samconfig.toml overrides over the defaults)."""
    values = {name: spec["Default"] for name, spec in PARAMETERS.items() if spec["Type"] == "Number"}
    if environment is not None:
        config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
        overrides = config[environment]["deploy"]["parameters"]["parameter_overrides"].split()
        values.update({name: float(value) for name, value in (pair.split("=", 1) for pair in overrides) if name in values})
    return values


def line_mappings(provider: str) -> dict[str, dict]:
    """queue -> the worker's event source mapping that reads it."""
    worker, _ = PROVIDERS[provider]
    events = RESOURCES[worker]["Properties"]["Events"].values()
    return {event["Properties"]["Queue"]["Fn::GetAtt"][0]: event["Properties"] for event in events if event["Type"] == "SQS"}


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
@pytest.mark.parametrize("limit", ["Concurrency", "RequestsPerMinute", "SecondsPerRequest"])
def test_each_providers_limits_are_described_number_parameters(provider, limit):
    parameter = PARAMETERS[f"{provider}Provider{limit}"]

    assert parameter["Type"] == "Number" and parameter["Default"] >= parameter["MinValue"] >= 1
    assert len(parameter["Description"]) > 40


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_each_line_reads_its_own_queue_with_the_concurrency_of_its_parameter(provider):
    """Premium books keep capacity of their own: the standard line's backlog cannot take it."""
    _, lines = PROVIDERS[provider]
    mappings = line_mappings(provider)

    assert sorted(mappings) == sorted(lines)
    for queue, parameter in lines.items():
        assert mappings[queue]["ScalingConfig"]["MaximumConcurrency"] == {"Ref": parameter}
        assert PARAMETERS[parameter]["MinValue"] == 2 and PARAMETERS[parameter]["MaxValue"] == 1000  # Lambda's range


@pytest.mark.parametrize("environment", [None, *ENVIRONMENTS])
@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_the_lines_together_stay_within_the_providers_concurrency_and_rate(provider, environment):
    values = parameter_values(environment)
    _, lines = PROVIDERS[provider]
    together = sum(values[parameter] for parameter in lines.values())
    # C requests at a time, each taking L seconds, make about 60 x C / L requests a minute.
    rate_bound = values[f"{provider}ProviderRequestsPerMinute"] * values[f"{provider}ProviderSecondsPerRequest"] / 60

    assert together <= values[f"{provider}ProviderConcurrency"]
    assert together <= rate_bound


@pytest.mark.parametrize("environment", [None, *ENVIRONMENTS])
@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_a_workers_reserved_concurrency_covers_both_of_its_lines(provider, environment):
    """Below it, Lambda would throttle the event source mappings instead of them pacing themselves."""
    values = parameter_values(environment)
    worker, lines = PROVIDERS[provider]
    reserved = values[RESOURCES[worker]["Properties"]["ReservedConcurrentExecutions"]["Ref"]]
    assert reserved >= sum(values[parameter] for parameter in lines.values())


@pytest.mark.parametrize(("variable", "parameter"), sorted(ADMISSION_VARIABLES.items()))
def test_every_function_estimates_waits_from_the_templates_numbers(variable, parameter):
    (field,) = [field for field in Settings.model_fields.values() if field.alias == variable]

    assert GLOBAL_VARIABLES[variable] == {"Ref": parameter}
    assert field.default == PARAMETERS[parameter]["Default"]  # the same numbers outside Lambda
