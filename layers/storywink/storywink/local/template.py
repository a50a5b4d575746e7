"""Read template.yaml as CloudFormation does: YAML plus the short-form intrinsic function tags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

TEMPLATE_NAME = "template.yaml"

# `!Name value` -> {"Fn::Name": value}; !Ref, !GetAtt and !Condition have their own long forms.
_FN_TAGS = (
    "And", "Base64", "Cidr", "Equals", "FindInMap", "GetAZs", "If", "ImportValue",
    "Join", "Not", "Or", "Select", "Split", "Sub",
)


class TemplateLoader(yaml.SafeLoader):
    """A SafeLoader that understands CloudFormation's short-form tags."""


def _construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


def _get_att(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, list[Any]]:
    value = _construct(loader, node)
    if isinstance(value, str):
        resource, _, attribute = value.partition(".")
        value = [resource, attribute]
    return {"Fn::GetAtt": value}


def _long_form(key: str):
    return lambda loader, node: {key: _construct(loader, node)}


TemplateLoader.add_constructor("!Ref", _long_form("Ref"))
TemplateLoader.add_constructor("!Condition", _long_form("Condition"))
TemplateLoader.add_constructor("!GetAtt", _get_att)
for _name in _FN_TAGS:
    TemplateLoader.add_constructor(f"!{_name}", _long_form(f"Fn::{_name}"))


def load_template(path: Path) -> dict[str, Any]:
    """Parse a SAM/CloudFormation template into plain dicts, intrinsics in their long form."""
    with Path(path).open(encoding="utf-8") as stream:
        return yaml.load(stream, Loader=TemplateLoader)


def repo_root() -> Path:
    """The folder holding template.yaml: this package's checkout, else the nearest one above the cwd."""
    checkout = Path(__file__).resolve().parents[4]  # layers/storywink/storywink/local/template.py
    if (checkout / TEMPLATE_NAME).is_file():
        return checkout
    for folder in (Path.cwd(), *Path.cwd().parents):
        if (folder / TEMPLATE_NAME).is_file():
            return folder
    raise FileNotFoundError(f"no {TEMPLATE_NAME} in {checkout} or above {Path.cwd()}")
