"""What CloudFormation will see: the template after the SAM transform (as `sam deploy` sends it),
checked by cfn-lint. The source-level `sam validate --lint` cannot see cycles the transform creates
(an alias, its deployment group and the alarms it rolls back on)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from storywink.local.template import repo_root

ARTIFACTS = "s3://storywink-deploy-artifacts/package.zip"  # where `sam package` would have put the code


def transformed_template(tmp_path: Path) -> Path:
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    class NoManagedPolicies:
        def load(self) -> dict:
            return {}

    template = yaml_parse((repo_root() / "template.yaml").read_text())
    template["Globals"]["Function"]["CodeUri"] = ARTIFACTS
    for resource in template["Resources"].values():
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if key in resource.get("Properties", {}):
                resource["Properties"][key] = ARTIFACTS
    output = tmp_path / "transformed.json"
    output.write_text(json.dumps(transform(template, {"AWS::Region": "us-east-1"}, NoManagedPolicies())))
    return output


def test_the_transformed_template_has_no_errors_and_no_circular_dependency(tmp_path, monkeypatch):
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    if not cfn_lint.is_file() and not shutil.which("cfn-lint"):
        pytest.skip("cfn-lint is not installed (it comes with aws-sam-cli)")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    result = subprocess.run(
        [str(cfn_lint) if cfn_lint.is_file() else "cfn-lint", str(transformed_template(tmp_path))],
        capture_output=True, text=True, timeout=120, check=False,
    )
    errors = [line for line in result.stdout.splitlines() if line.startswith("E")]
    assert errors == [], result.stdout
