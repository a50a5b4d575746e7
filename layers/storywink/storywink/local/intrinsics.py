"""Evaluate the CloudFormation intrinsic functions the template uses, against locally created resources."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class Unresolvable(Exception):
    """A reference to something the local stack does not create (e.g. the Cognito pool)."""


@dataclass
class ResolveContext:
    parameters: dict[str, Any]
    mappings: dict[str, Any]
    conditions: dict[str, bool] = field(default_factory=dict)
    # Ref value and attributes of each created resource, by logical id.
    refs: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        raise Unresolvable(f"Ref {name}")

    def get_att(self, resource: str, attribute: str) -> Any:
        try:
            return self.attributes[resource][attribute]
        except KeyError as exc:
            raise Unresolvable(f"GetAtt {resource}.{attribute}") from exc


class _NoValue:
    """What Ref AWS::NoValue resolves to: the property or list item that holds it is left out."""


NO_VALUE = _NoValue()


def resolve(value: Any, ctx: ResolveContext) -> Any:
    """Resolve every intrinsic inside ``value``; raises Unresolvable for what the local stack lacks."""
    if isinstance(value, list):
        return [item for item in (resolve(item, ctx) for item in value) if item is not NO_VALUE]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (key, argument), = value.items()
        function = _FUNCTIONS.get(key)
        if function is not None:
            return function(argument, ctx)
    resolved = {key: resolve(item, ctx) for key, item in value.items()}
    return {key: item for key, item in resolved.items() if item is not NO_VALUE}


def _sub(argument: Any, ctx: ResolveContext) -> str:
    if isinstance(argument, list):
        template, variables = argument[0], {k: resolve(v, ctx) for k, v in argument[1].items()}
    else:
        template, variables = argument, {}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in variables:
            return str(variables[name])
        if "." in name:
            resource, attribute = name.split(".", 1)
            return str(ctx.get_att(resource, attribute))
        return str(ctx.ref(name))

    return _SUB_VARIABLE.sub(replace, template).replace("${!", "${")


def _if(argument: list[Any], ctx: ResolveContext) -> Any:
    condition, when_true, when_false = argument
    return resolve(when_true if ctx.conditions.get(condition, False) else when_false, ctx)


_FUNCTIONS: dict[str, Callable[[Any, ResolveContext], Any]] = {
    "Ref": lambda name, ctx: ctx.ref(name),
    "Fn::GetAtt": lambda arg, ctx: ctx.get_att(*(arg if isinstance(arg, list) else arg.split(".", 1))),
    "Fn::Sub": _sub,
    "Fn::Join": lambda arg, ctx: str(arg[0]).join(str(v) for v in resolve(arg[1], ctx)),
    "Fn::Select": lambda arg, ctx: resolve(arg[1], ctx)[int(resolve(arg[0], ctx))],
    "Fn::Split": lambda arg, ctx: str(resolve(arg[1], ctx)).split(arg[0]),
    "Fn::FindInMap": lambda arg, ctx: ctx.mappings[resolve(arg[0], ctx)][resolve(arg[1], ctx)][resolve(arg[2], ctx)],
    "Fn::If": _if,
    "Fn::Equals": lambda arg, ctx: resolve(arg[0], ctx) == resolve(arg[1], ctx),
    "Fn::Not": lambda arg, ctx: not resolve(arg[0], ctx),
    "Fn::And": lambda arg, ctx: all(resolve(v, ctx) for v in arg),
    "Fn::Or": lambda arg, ctx: any(resolve(v, ctx) for v in arg),
    "Condition": lambda name, ctx: ctx.conditions.get(name, False),
}


def parameter_values(template: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Each parameter's default (CommaDelimitedList split), then the overrides; plus the pseudo parameters."""
    values: dict[str, Any] = {}
    for name, spec in template.get("Parameters", {}).items():
        value = overrides.get(name, spec.get("Default"))
        if value is None:
            continue  # no default and no override: a Ref to it is unresolvable locally
        if spec.get("Type") == "CommaDelimitedList" and isinstance(value, str):
            value = [part.strip() for part in value.split(",")]
        values[name] = value
    return values


def evaluate_conditions(template: dict[str, Any], ctx: ResolveContext) -> None:
    for name, expression in template.get("Conditions", {}).items():
        try:
            ctx.conditions[name] = bool(resolve(expression, ctx))
        except Unresolvable:
            ctx.conditions[name] = False
