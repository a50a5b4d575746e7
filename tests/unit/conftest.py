"""The lints and scanners of template.yaml, started together: each is a single-threaded run of ten seconds
or more, so they share the cores instead of queueing behind one another."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from storywink.local.template import repo_root

ROOT = repo_root()
ARTIFACTS = "s3://storywink-deploy-artifacts/package.zip"  # where `sam package` would have put the code


def tool(name: str) -> str | None:
    """A command-line tool from this interpreter's environment, else from the PATH."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.is_file() else shutil.which(name)


def checkov() -> str | None:
    """checkov from its own environment (`make checkov`: its pins clash with the SAM CLI's), else the PATH."""
    own = ROOT / ".venv-checkov" / "bin" / "checkov"
    return str(own) if own.is_file() else shutil.which("checkov")


# checkov offline: no Bridgecrew platform, no guideline download, and any request it still tries fails at
# once on a closed local port instead of waiting on the network.
CHECKOV_OFFLINE = {
    "BC_SKIP_MAPPING": "TRUE",
    "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "",
}


def transformed_template(folder: Path) -> Path:
    """template.yaml after the SAM transform, as `sam deploy` sends it to CloudFormation."""
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    class NoManagedPolicies:
        def load(self) -> dict:
            return {}

    template = yaml_parse((ROOT / "template.yaml").read_text())
    template["Globals"]["Function"]["CodeUri"] = ARTIFACTS
    for resource in template["Resources"].values():
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if key in resource.get("Properties", {}):
                resource["Properties"][key] = ARTIFACTS
    output = folder / "transformed.json"
    output.write_text(json.dumps(transform(template, {"AWS::Region": "us-east-1"}, NoManagedPolicies())))
    return output


@dataclass
class Lint:
    process: subprocess.Popen[str] | None  # None: the tool is not installed

    def result(self) -> tuple[str, str]:
        """Its stdout and stderr, once it has ended."""
        assert self.process is not None
        return self.process.communicate(timeout=300)


@pytest.fixture(scope="session")
def transformed_template_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return transformed_template(tmp_path_factory.mktemp("transformed"))


@pytest.fixture(scope="session")
def template_lints(transformed_template_path: Path) -> Iterator[dict[str, Lint]]:
    """`sam validate --lint` on the source, cfn-lint on the transformed template, cfn-lint's serverless rules
    on the source (they know SAM's resources) and checkov on the transformed template (where it sees the
    roles SAM generates; resource Metadata, and so every skip, passes through the transform), all running."""
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0"}

    def start(*command: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            command, cwd=ROOT, env={**env, **(extra_env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    sam, cfn_lint, scanner = tool("sam"), tool("cfn-lint"), checkov()
    template = str(ROOT / "template.yaml")
    lints = {
        "sam validate": Lint(start(sam, "validate", "--lint", "--template-file", template) if sam else None),
        "cfn-lint transformed": Lint(
            start(cfn_lint, str(transformed_template_path)) if cfn_lint else None
        ),
        "cfn-lint serverless": Lint(
            start(cfn_lint, "--append-rules", "cfn_lint_serverless.rules", "--", template) if cfn_lint else None
        ),
        "checkov transformed": Lint(
            start(
                scanner, "--framework", "cloudformation", "--skip-download", "--compact", "--output", "json",
                "--file", str(transformed_template_path), extra_env=CHECKOV_OFFLINE,
            )
            if scanner
            else None
        ),
    }
    yield lints
    for lint in lints.values():
        if lint.process is not None and lint.process.poll() is None:
            lint.process.kill()
            lint.process.wait()
