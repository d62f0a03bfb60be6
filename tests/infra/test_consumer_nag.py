"""cdk-nag 3 in a consumer's app: what its own state machine gets from the fragment (and from its own
tracing, logging and approval topic), exactly as docs/platform.md lists them, and that the
acknowledgments shown there are all it takes to synthesize."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from aws_cdk import Acknowledgment, App, Stack, Validations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from cdk_nag import AwsSolutionsChecks

from promote_model_cdk import ApprovalGate, MlflowAuth, PromoteModel
from tests.infra.conftest import ROOT


def _consumer_app(outdir: Path, *, acknowledge: bool) -> App:
    app = App(outdir=str(outdir), context={"aws:cdk:bundling-stacks": []})
    stack = Stack(app, "Consumer")
    promote_model = PromoteModel(
        stack, "PromoteModel", tracking_uri="https://mlflow.example.com", auth=MlflowAuth.none(), environment="prod"
    )
    promotion = promote_model.fragment(
        stack,
        "Promote",
        on_not_promoted=sfn.Succeed(stack, "Kept"),
        on_failure=sfn.Fail(stack, "Failed"),
        approval=ApprovalGate(topic=promote_model.alert_topic),
    )
    state_machine = sfn.StateMachine(
        stack,
        "Retraining",
        definition_body=sfn.DefinitionBody.from_chainable(sfn.Pass(stack, "Train").next(promotion)),
        tracing_enabled=True,  # AwsSolutions-SF2
        logs=sfn.LogOptions(destination=logs.LogGroup(stack, "Logs"), level=sfn.LogLevel.ALL),  # SF1
    )
    promote_model.alert_topic.grant_publish(state_machine)  # the approval requests
    if acknowledge:  # as docs/platform.md shows it
        function = promote_model.function
        function_id = Stack.of(function).resolve(Stack.of(function).get_logical_id(function.node.default_child))
        Validations.of(state_machine).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::<{function_id}.Arn>:*]",
                reason="The task may invoke the versions and aliases of the one promote-model function.",
            ),
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="X-Ray tracing and CloudWatch Logs delivery are granted by AWS only on all resources.",
            ),
            Acknowledgment(
                id="AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
                reason="Publishing approval requests to the KMS-encrypted topic needs both data-key variants, on its key only.",
            ),
        )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def test_a_consumer_state_machine_gets_exactly_the_documented_findings(tmp_path):
    with pytest.raises(Exception, match="ValidationFailed") as failure:
        _consumer_app(tmp_path, acknowledge=False).synth()

    findings = sorted(re.findall(r"Acknowledge with 'AwsSolutions::([^']+)'", str(failure.value)))

    assert findings == [
        "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "AwsSolutions-IAM5[Resource::*]",
        "AwsSolutions-IAM5[Resource::<PromoteModelFunctionD4B99965.Arn>:*]",
    ]
    documented = (ROOT / "docs" / "platform.md").read_text()
    for finding in findings:
        assert finding.replace("PromoteModelFunctionD4B99965", "FUNCTION_ID") in documented


def test_the_documented_acknowledgments_are_all_a_consumer_needs(tmp_path):
    _consumer_app(tmp_path, acknowledge=True).synth()  # raises on any unacknowledged finding

    report = json.loads((tmp_path / "validation-report.json").read_text())
    assert [v for plugin in report["pluginReports"] for v in plugin.get("violations", [])] == []
