"""What CloudFormation will see: the template after the SAM transform (as `sam deploy` sends it),
checked by cfn-lint. The source-level `sam validate --lint` cannot see cycles the transform creates
(an alias, its deployment group and the alarms it rolls back on). Both lints run at once
(tests/unit/conftest.py)."""

from __future__ import annotations

import pytest


def test_the_transformed_template_has_no_errors_and_no_circular_dependency(template_lints):
    lint = template_lints["cfn-lint transformed"]
    if lint.process is None:
        pytest.skip("cfn-lint is not installed (it comes with aws-sam-cli)")
    stdout, stderr = lint.result()
    errors = [line for line in stdout.splitlines() if line.startswith("E")]
    assert errors == [], stdout + stderr
