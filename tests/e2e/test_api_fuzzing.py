"""Schemathesis against the local stack's API over real HTTP, from the committed openapi.json: every
operation (deleteMe last, as another user), every check, the examples, coverage, fuzzing and stateful
phases, a bounded and deterministic number of cases. What it is told to expect beyond the document, and why, is in schemathesis.toml beside
this file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SCHEMATHESIS = Path(sys.executable).with_name("st")
CONFIG = Path(__file__).with_name("schemathesis.toml")
# Cases per operation in the fuzzing phase (the coverage phase's are fixed by the schema): the whole test
# takes two to three minutes on two cores.
MAX_EXAMPLES = 5


# Deleting the account ends the account the run's token is for: every later case would meet 410
# ACCOUNT_DELETED. So it runs on its own, as another user, after everything else.
LAST = "deleteMe"


def schemathesis(stack, user: str, folder: Path, *selection: str, phases: str = "examples,coverage,fuzzing,stateful") -> dict:
    """One Schemathesis run as ``user`` over the operations ``selection`` picks; its JSON report."""
    # An admin is exempt from every quota and may call the admin routes: no 429 or 403 hides an answer.
    token = stack.mint_token(user, plan="premium", admin=True)
    folder.mkdir()
    report = folder / "report.json"
    run = subprocess.run(
        [
            SCHEMATHESIS,
            "--config-file",
            CONFIG,
            "run",
            REPO / "openapi.json",
            "--url",
            stack.api_url,
            "--header",
            f"Authorization: Bearer {token}",
            *selection,
            "--checks",
            "all",
            # Off for the whole run, for the reason in schemathesis.toml (the command line wins over the file).
            "--exclude-checks",
            "ensure_resource_availability",
            "--phases",
            phases,
            "--max-examples",
            str(MAX_EXAMPLES),
            "--generation-deterministic",  # the same cases on every run: CI never flips on a new draw
            "--workers",
            "1",
            "--request-timeout",
            "10",
            "--no-color",
            "--report",
            "json",
            "--report-json-path",
            report,
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=folder,  # its own files (the cassette directory, the replay store) stay out of the repository
    )
    output = run.stdout + run.stderr
    summary = output[output.find("=== ERRORS ===") if "=== ERRORS ===" in output else output.find("=== FAILURES ===") :]
    assert run.returncode == 0, f"Schemathesis failed (st exit code {run.returncode}):\n{summary or output}"
    result = json.loads(report.read_text())
    assert result["complete"] and result["failures"] == [] and result["errors"] == []
    return result


def test_schemathesis_finds_no_failures(stack, db, settings, tmp_path):
    # A stream stays open until its window ends: a short one lets each streamed case finish at once.
    settings.set(SSE_WINDOW_SECONDS="0.1")

    everything_else = schemathesis(stack, "fuzzer", tmp_path / "run", "--exclude-operation-id", LAST)
    # One operation has no links to follow: no stateful phase.
    last = schemathesis(stack, "fuzzer-leaving", tmp_path / "last", "--include-operation-id", LAST, phases="coverage,fuzzing")

    document = json.loads((REPO / "openapi.json").read_text())
    total = sum(len(path) for path in document["paths"].values())
    assert everything_else["operations"]["tested"] == total - 1 and last["operations"]["tested"] == 1
    assert all(phase["status"] == "success" for name, phase in everything_else["phases"].items() if name != "examples")
    assert last["phases"]["coverage"]["status"] == last["phases"]["fuzzing"]["status"] == "success"
