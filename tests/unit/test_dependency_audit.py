"""Every pinned package (constraints.txt: the layer's runtime dependencies and the dev tools, direct and
transitive; constraints-checkov.txt: the scanner's own environment) audited by pip-audit against a public advisory database, when one is reachable from here.

pip-audit asks the PyPI JSON API (or OSV) about each exact version; it installs nothing (`--no-deps
--disable-pip`: every line is an exact pin). Where neither source answers (a machine that reaches only
a package index mirror), the test is skipped and says so.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Audited one file at a time: the two environments pin some packages (boto3, ...) at different versions.
CONSTRAINTS = ["constraints.txt", "constraints-checkov.txt"]
# The advisory sources pip-audit knows, each with a URL that answers 200 when the source is reachable (for
# PyPI a release's own JSON, which pip-audit reads: some mirrors serve a project's JSON but not a release's).
SOURCES = {
    "pypi": "https://pypi.org/pypi/pip/24.0/json",
    "osv": "https://api.osv.dev/v1/vulns/PYSEC-2021-1",
}
# Advisories accepted for now, each with its reason (none today).
IGNORED: dict[str, str] = {}


def _reachable(url: str) -> str | None:
    """None when ``url`` answers 200, else why not."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return None if response.status == 200 else f"HTTP {response.status}"
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
    except (urllib.error.URLError, OSError) as error:
        return str(getattr(error, "reason", error))


def _advisory_source() -> str:
    problems = {}
    for service, url in SOURCES.items():
        problem = _reachable(url)
        if problem is None:
            return service
        problems[service] = f"{url}: {problem}"
    pytest.skip(
        "no advisory source is reachable from this machine, so pip-audit cannot look the pins up ("
        + "; ".join(f"{service} {problem}" for service, problem in problems.items())
        + ")"
    )


def _pip_audit() -> str:
    beside_python = Path(sys.executable).parent / "pip-audit"
    found = str(beside_python) if beside_python.is_file() else shutil.which("pip-audit")
    assert found, "pip-audit is not installed (requirements-dev.txt pins it)"
    return found


@pytest.mark.parametrize("pins", CONSTRAINTS)
def test_no_pinned_package_has_a_known_vulnerability(pins):
    service = _advisory_source()
    ignored = [argument for vuln in IGNORED for argument in ("--ignore-vuln", vuln)]
    audit = subprocess.run(
        [
            _pip_audit(), "--requirement", str(ROOT / pins), "--no-deps", "--disable-pip",
            "--vulnerability-service", service, "--progress-spinner", "off", "--format", "json", *ignored,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert audit.stdout.strip(), audit.stderr[-3000:]
    report = json.loads(audit.stdout)
    not_audited = {dependency["name"]: dependency["skip_reason"] for dependency in report["dependencies"] if "skip_reason" in dependency}
    found = {
        f"{dependency['name']} {dependency['version']}": [(vuln["id"], vuln["fix_versions"]) for vuln in dependency["vulns"]]
        for dependency in report["dependencies"]
        if dependency.get("vulns")
    }

    assert not_audited == {}, f"pip-audit ({service}) could not look these up"
    assert found == {}, f"pip-audit ({service}) found advisories (id, fixed in)"
    assert audit.returncode == 0, audit.stderr[-3000:]
