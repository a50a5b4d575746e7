"""The uptime canary's script, taken from template.yaml, run against the local stack: it passes when the
API answers /healthz and an authenticated read, and fails the run when either does not."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from storywink.local.template import load_template

TEMPLATE = Path(__file__).parents[2] / "template.yaml"


@pytest.fixture
def canary(tmp_path, monkeypatch):
    """The canary's handler, loaded from the template's Code.Script as Synthetics would."""
    code = load_template(TEMPLATE)["Resources"]["UptimeCanary"]["Properties"]["Code"]
    module_name, function = code["Handler"].split(".")
    path = tmp_path / f"{module_name}.py"
    path.write_text(code["Script"])
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name in ("CANARY_TOKEN", "CANARY_SECRET_ARN"):
        monkeypatch.delenv(name, raising=False)
    return getattr(module, function)


def test_the_canary_passes_against_the_local_stack_with_an_authenticated_read(canary, stack, db, monkeypatch):
    monkeypatch.setenv("API_URL", stack.api_url)
    monkeypatch.setenv("CANARY_TOKEN", stack.mint_token("uptime-canary"))
    assert canary({}, None) == "healthz and an authenticated read ok"


def test_without_a_canary_user_it_checks_health_only(canary, stack, monkeypatch):
    monkeypatch.setenv("API_URL", stack.api_url)
    assert canary({}, None).startswith("healthz ok")


def test_the_run_fails_when_the_read_is_refused_or_the_api_is_unreachable(canary, stack, monkeypatch):
    monkeypatch.setenv("API_URL", stack.api_url)
    monkeypatch.setenv("CANARY_TOKEN", "not-a-token")
    with pytest.raises(Exception, match="401"):
        canary({}, None)
    monkeypatch.setenv("API_URL", "http://127.0.0.1:9")  # the discard port: nothing listens
    with pytest.raises(OSError):
        canary({}, None)
