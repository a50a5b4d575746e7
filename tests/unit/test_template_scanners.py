"""The security scanners on template.yaml: checkov (on the transformed template, as deployed) and
cfn-lint's serverless rules (on the source). Nothing may fail; a finding that does not apply is skipped
on its resource in the template's Metadata with a one-line reason. Both run offline, at once with the
other lints (tests/unit/conftest.py)."""

from __future__ import annotations

import json

import pytest

from storywink.local.template import load_template, repo_root

RESOURCES = load_template(repo_root() / "template.yaml")["Resources"]


def checkov_report(template_lints) -> dict:
    lint = template_lints["checkov transformed"]
    if lint.process is None:
        pytest.skip("checkov is not installed (make checkov puts it in .venv-checkov)")
    stdout, stderr = lint.result()
    assert lint.process.returncode in (0, 1), stdout + stderr  # 1: failed checks, reported below
    return json.loads(stdout)


def test_checkov_finds_no_failed_check(template_lints):
    report = checkov_report(template_lints)
    failed = [f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in report["results"]["failed_checks"]]

    assert report["summary"]["passed"] > 0
    assert failed == []


def test_every_checkov_skip_gives_a_reason(template_lints):
    checkov_report(template_lints)  # only where checkov runs
    skips = [
        (name, skip)
        for name, spec in RESOURCES.items()
        for skip in spec.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]

    assert skips
    assert all(len(skip.get("comment", "")) > 20 for _, skip in skips), skips


def test_every_checkov_skip_is_still_needed(template_lints):
    report = checkov_report(template_lints)
    skipped = {(c["check_id"], c["resource"].split(".", 1)[1]) for c in report["results"]["skipped_checks"]}
    declared = {
        (skip["id"], name)
        for name, spec in RESOURCES.items()
        for skip in spec.get("Metadata", {}).get("checkov", {}).get("skip", [])
    }

    assert declared == skipped


def test_cfn_lint_serverless_rules_find_nothing(template_lints):
    lint = template_lints["cfn-lint serverless"]
    if lint.process is None:
        pytest.skip("cfn-lint is not installed (it comes with aws-sam-cli)")
    stdout, stderr = lint.result()

    assert lint.process.returncode == 0, stdout + stderr
