"""`make deploy-local` as a test: the real CDK CLI bootstraps and deploys the local environment into a
moto server, the stack is verified through the services' APIs, a promotion runs through the deployed
state machine and code, and `cdk destroy` removes it. One deployment for the module (about 80 s)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from devtools.deploy.aws import Aws, Check
from devtools.deploy.checks import verify_stack
from devtools.deploy.local import MODEL, STACK, LocalDeployment, deploy_local


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> tuple[LocalDeployment, list[Check]]:
    """The deployment, and the checks of a template that asks for one retention the stack does not have."""
    tampered_checks: list[Check] = []

    def verify_a_tampered_template(template: dict[str, Any], aws: Aws) -> None:
        tampered = copy.deepcopy(template)
        [log_group] = [r for k, r in tampered["Resources"].items() if k.startswith("PromoteModelLogs")]
        log_group["Properties"]["RetentionInDays"] = 7
        tampered_checks.extend(verify_stack(tampered, STACK, aws))

    result = deploy_local(
        Path(tmp_path_factory.mktemp("deploy-local")), say=print, while_deployed=verify_a_tampered_template
    )
    return result, tampered_checks


def test_every_template_resource_is_found_in_its_service_with_every_property(deployment):
    result, _ = deployment

    assert [c for c in result.checks if not c.passed] == []
    assert {c.resource for c in result.checks if c.name == "exists"} == set(result.template["Resources"])
    assert {c.service for c in result.checks} >= {"KMS", "SNS", "SecretsManager", "Lambda", "IAM", "Logs", "StepFunctions", "CloudWatch"}  # fmt: skip


def test_a_property_that_differs_from_the_template_fails_its_check(deployment):
    _, tampered_checks = deployment

    [failed] = [c for c in tampered_checks if not c.passed]
    assert (failed.name, failed.expected, failed.actual) == ("RetentionInDays", 7, 1)


def test_a_promotion_runs_through_the_deployed_state_machine_and_code(deployment):
    result, _ = deployment

    assert result.execution is not None
    assert result.execution.status == "SUCCEEDED"
    assert result.execution.states_entered() == [
        "IsNewVersionGiven",
        "PromoteModel",
        "WasModelPromoted",
        "ModelPromoted",
        "NotifySuccess",
    ]
    assert (result.stages_before, result.stages_after) == ({"1": "Production", "2": "Staging"}, {"1": "Archived", "2": "Production"})  # fmt: skip
    # The handler's context carried the deployed function's ARN, and its settings the deployed environment.
    assert result.promoted_version_tags["promoted_by"].startswith(
        f"arn:aws:lambda:us-east-1:123456789012:function:{STACK}-"
    )
    assert result.promoted_version_tags["environment"] == "local"


def test_the_deployed_topic_carries_the_promotion_and_the_workflow_outcome(deployment):
    result, _ = deployment

    by_event = {n["MessageAttributes"]["event"]["Value"]: n for n in result.notifications}
    assert set(by_event) == {"model_promoted", "workflow_succeeded"}
    assert by_event["model_promoted"]["Subject"] == f"[TradAI] Model Promoted: {MODEL}"
    assert "Environment: local" in by_event["model_promoted"]["Message"]


def test_destroy_removes_every_resource_but_the_retained_key(deployment):
    result, _ = deployment

    assert result.left_after_destroy == []
