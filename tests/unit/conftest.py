"""The two lints of template.yaml, started together: each is a single-threaded cfn-lint run of tens of
seconds, so the second core takes one while the first takes the other."""

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
    """`sam validate --lint` on the source and cfn-lint on the transformed template, both running."""
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0"}

    def start(*command: str) -> subprocess.Popen[str]:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    sam, cfn_lint = tool("sam"), tool("cfn-lint")
    lints = {
        "sam validate": Lint(start(sam, "validate", "--lint", "--template-file", str(ROOT / "template.yaml")) if sam else None),
        "cfn-lint transformed": Lint(
            start(cfn_lint, str(transformed_template_path)) if cfn_lint else None
        ),
    }
    yield lints
    for lint in lints.values():
        if lint.process is not None and lint.process.poll() is None:
            lint.process.kill()
            lint.process.wait()
