"""What each handler loads at its cold start, read from a fresh interpreter's sys.modules after importing it
as the Lambda runtime does: only what its own function needs (the times are bench/cold_start.py's)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
# The template's defaults, with tracing off as everywhere outside Lambda.
ENVIRONMENT = {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "STORY_PROVIDER": "offline",
    "ILLUSTRATION_PROVIDER": "offline",
    "PDF_RENDERER": "fpdf",
}
NO_AI_SDK = ("openai",)
NO_DRAWING = ("PIL", "fpdf")
NO_DATABASE = ("sqlalchemy", "pg8000")


def loaded_after_import(module: str, **environment: str) -> set[str]:
    """The modules a fresh interpreter holds after importing the handler module (and their packages)."""
    script = f"import json, sys; sys.path.insert(0, {str(FUNCTIONS)!r}); import {module}; print(json.dumps(sorted(sys.modules)))"
    run = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, **ENVIRONMENT, **environment},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return set(json.loads(run.stdout.strip().splitlines()[-1]))


def present(loaded: set[str], *packages: str) -> list[str]:
    return [package for package in packages if package in loaded]


@pytest.mark.parametrize(
    ("module", "absent"),
    [
        ("api", (*NO_AI_SDK, "fpdf")),
        ("story_worker", (*NO_AI_SDK, "fpdf")),
        ("illustration_worker", (*NO_AI_SDK, "fpdf")),
        ("finalize_worker", (*NO_AI_SDK, *NO_DRAWING)),
        ("pdf_worker", NO_AI_SDK),
        ("dlq_handler", (*NO_AI_SDK, *NO_DRAWING)),
        ("lease_sweeper", (*NO_AI_SDK, *NO_DRAWING)),
        ("maintenance", (*NO_AI_SDK, *NO_DRAWING)),
        ("push_fanout", (*NO_AI_SDK, *NO_DRAWING)),
        ("ws_subscribe", (*NO_AI_SDK, *NO_DRAWING)),
        ("ws_connect", (*NO_AI_SDK, *NO_DRAWING, *NO_DATABASE)),
        ("ws_disconnect", (*NO_AI_SDK, *NO_DRAWING, *NO_DATABASE, "jwt")),
    ],
)
def test_a_handler_loads_only_what_its_function_needs(module, absent):
    loaded = loaded_after_import(module)
    assert present(loaded, *absent, "aws_xray_sdk.core") == []


@pytest.mark.parametrize("module", ["story_worker", "illustration_worker", "finalize_worker", "pdf_worker"])
def test_a_step_worker_loads_no_parser_models(module):
    """Powertools' parser models describe every event source: a tenth of a second for one SQS record."""
    assert present(loaded_after_import(module), "aws_lambda_powertools.utilities.parser") == []


def test_the_pdf_worker_loads_its_layout_at_cold_start():
    assert present(loaded_after_import("pdf_worker"), "fpdf") == ["fpdf"]


def test_the_configured_providers_sdk_loads_at_cold_start_and_no_other():
    loaded = loaded_after_import("story_worker", STORY_PROVIDER="openai", OPENAI_API_KEY="sk-test")
    assert present(loaded, "openai") == ["openai"]
    assert present(loaded_after_import("illustration_worker", STORY_PROVIDER="openai"), "openai") == []
