"""cdk-nag (AwsSolutions) and cfn-lint on every environment's synthesized template."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.infra.checkov import checkov_executable, scan, unexplained
from tests.infra.conftest import ROOT, synthesize


def test_cdk_nag_reports_no_unacknowledged_findings(synthesized):
    # synthesis raises on an unacknowledged finding; the report must also hold none
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())

    violations = [v for plugin in report["pluginReports"] for v in plugin.get("violations", [])]
    assert violations == []


def test_every_acknowledgment_carries_a_reason(synthesized):
    metadata = json.loads((synthesized.outdir / f"{synthesized.stack.stack_name}.metadata.json").read_text())

    acknowledged = {
        rule: reason
        for entries in metadata.values()
        for entry in entries
        if entry["type"] == "aws:cdk:acknowledged-rules"
        for rule, reason in entry["data"].items()
    }
    assert "Annotation::AwsSolutions-L1" in acknowledged
    for rule, reason in acknowledged.items():
        assert len(reason.split()) >= 10, f"{rule}: {reason!r} is no reason a reviewer would accept"


@pytest.mark.parametrize("vpc", [False, True], ids=["no-vpc", "vpc"])
def test_cfn_lint_finds_nothing(synthesized, tmp_path, vpc):
    template_path = synthesized.outdir / f"{synthesized.stack.stack_name}.template.json"
    if vpc:
        template_path = (
            synthesize(
                tmp_path,
                synthesized.environment,
                vpc={
                    "vpc_id": "vpc-0123456789abcdef0",
                    "availability_zones": ["eu-west-1a"],
                    "subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa"],
                    "security_group_ids": ["sg-0cccccccccccccccc"],
                },
            ).outdir
            / f"{synthesized.stack.stack_name}.template.json"
        )

    lint = subprocess.run(
        [
            str(Path(sys.executable).parent / "cfn-lint"),
            "--config-file",
            str(ROOT / ".cfnlintrc.yaml"),
            "--",
            str(template_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )

    assert lint.returncode == 0, lint.stdout + lint.stderr


@pytest.fixture(scope="session")
def checkov() -> Path:
    return checkov_executable()


def test_checkov_finds_nothing_unexplained_in_any_environment(checkov, tmp_path):
    templates = []
    for environment in ("dev", "staging", "prod"):
        templates.append(tmp_path / f"{environment}.template.json")
        templates[-1].write_text(json.dumps(synthesize(tmp_path / environment, environment).template_dict))

    results = scan(checkov, templates)

    assert len(results) == 1 or len(results) == len(templates)
    assert unexplained(results) == []
    skipped = sorted({c["check_id"] for r in results for c in r["skipped_checks"]})
    assert skipped == ["CKV_AWS_116", "CKV_AWS_117"]  # no DLQ for a synchronous task; no VPC unless configured
