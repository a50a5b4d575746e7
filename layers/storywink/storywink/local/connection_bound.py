"""The most database connections the whole system can open, read from template.yaml.

Each function that may read the database's credentials runs at most as many containers as its
ReservedConcurrentExecutions, or else the sum of its SQS event source mappings' MaximumConcurrency; each
container opens at most its pool's size plus overflow (the settings' defaults: 1 + 0). A function with
neither limit makes the bound infinite, which a test forbids.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storywink.config import Settings
from storywink.local.intrinsics import ResolveContext, evaluate_conditions, parameter_values, resolve
from storywink.local.template import load_template


@dataclass(frozen=True)
class FunctionBound:
    function: str
    containers: float  # math.inf when nothing caps it
    limited_by: str


DATABASE_ACCESS_POLICY = {"Ref": "DatabaseAccessPolicy"}


def uses_the_database(properties: dict[str, Any]) -> bool:
    """A function that may read the database's credentials (the template's DatabaseAccessPolicy)."""
    return DATABASE_ACCESS_POLICY in properties.get("Policies", [])


def function_bounds(template_path: Path, parameters: dict[str, Any] | None = None) -> list[FunctionBound]:
    template = load_template(template_path)
    ctx = ResolveContext(parameters=parameter_values(template, parameters or {}), mappings=template.get("Mappings", {}))
    evaluate_conditions(template, ctx)
    bounds = []
    for name, spec in template["Resources"].items():
        properties = spec.get("Properties", {})
        if spec["Type"] != "AWS::Serverless::Function" or not uses_the_database(properties):
            continue
        if "ReservedConcurrentExecutions" in properties:
            bounds.append(FunctionBound(name, int(resolve(properties["ReservedConcurrentExecutions"], ctx)), "reserved"))
            continue
        events = list(properties.get("Events", {}).values())
        if events and all(event["Type"] == "SQS" for event in events):
            total = sum(_maximum_concurrency(event, ctx) for event in events)
            bounds.append(FunctionBound(name, total, "MaximumConcurrency"))
        else:
            bounds.append(FunctionBound(name, math.inf, "nothing"))
    return bounds


def connections_per_container() -> int:
    fields = Settings.model_fields
    return int(fields["database_pool_size"].default) + int(fields["database_max_overflow"].default)


def connection_bound(template_path: Path, parameters: dict[str, Any] | None = None) -> float:
    return sum(bound.containers for bound in function_bounds(template_path, parameters)) * connections_per_container()


def _maximum_concurrency(event: dict[str, Any], ctx: ResolveContext) -> int:
    # Lambda's own ceiling for an SQS mapping without ScalingConfig.
    scaling = event["Properties"].get("ScalingConfig", {})
    return int(resolve(scaling.get("MaximumConcurrency", 1000), ctx))
