"""``PromotionTrigger`` in a bare stack: the receiver function, its Function URL, its two grants,
its output, and a cdk-nag run with nothing left unacknowledged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Template

from infra.nag import add_nag_checks
from promote_model_cdk import MlflowAuth, PromoteModel, PromotionTrigger
from tests.infra.templates import function_grants, only, resources

STATE_MACHINE_ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:retraining"
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mlflow/webhook-AbCdEf"


def _stack(outdir: Path | None = None) -> tuple[App, Stack]:
    # No bundling: these tests read the template, not the assets (tests/infra/test_bundle.py does).
    app = App(context={"aws:cdk:bundling-stacks": []}, outdir=str(outdir) if outdir else None)
    return app, Stack(app, "Test")


def _trigger(stack: Stack, **options: Any) -> PromotionTrigger:
    return PromotionTrigger(
        stack,
        "Trigger",
        state_machine=sfn.StateMachine.from_state_machine_arn(stack, "Machine", STATE_MACHINE_ARN),
        webhook_secret=secretsmanager.Secret.from_secret_complete_arn(stack, "Secret", SECRET_ARN),
        **options,
    )


def _synth(**options: Any) -> dict[str, Any]:
    _, stack = _stack()
    _trigger(stack, **options)
    return Template.from_stack(stack).to_json()


def _function(template: dict[str, Any]) -> dict[str, Any]:
    [function] = resources(template, "AWS::Lambda::Function").values()
    return function["Properties"]


def test_the_receiver_runs_the_webhook_handler_with_its_settings_and_a_reserved_concurrency():
    function = _function(_synth(trigger_tag="promote=yes"))

    assert function["Handler"] == "promote_model.webhook.lambda_handler"
    assert function["Runtime"] == "python3.11"
    assert function["ReservedConcurrentExecutions"] == 2
    assert function["Timeout"] == 15
    settings = function["Environment"]["Variables"]
    assert settings["STATE_MACHINE_ARN"] == STATE_MACHINE_ARN
    assert settings["WEBHOOK_SECRET_ARN"] == SECRET_ARN
    assert (settings["TRIGGER_ALIAS"], settings["TRIGGER_TAG"]) == ("challenger", "promote=yes")
    assert function["LoggingConfig"]["LogGroup"] == {"Ref": only(_synth(), "AWS::Logs::LogGroup")}


def test_the_url_is_public_because_the_signature_is_the_authentication_and_is_an_output():
    template = _synth()

    [url] = resources(template, "AWS::Lambda::Url").values()
    assert url["Properties"]["AuthType"] == "NONE"
    assert url["Properties"]["TargetFunctionArn"] == {"Fn::GetAtt": [only(template, "AWS::Lambda::Function"), "Arn"]}
    # anyone may call the URL, and only through it: never lambda:InvokeFunction directly
    permissions = [p["Properties"] for p in resources(template, "AWS::Lambda::Permission").values()]
    assert sorted((p["Action"], p.get("FunctionUrlAuthType"), p.get("InvokedViaFunctionUrl")) for p in permissions) == [
        ("lambda:InvokeFunction", None, True),
        ("lambda:InvokeFunctionUrl", "NONE", None),
    ]
    [output] = template["Outputs"].values()
    assert output["Value"] == {"Fn::GetAtt": [only(template, "AWS::Lambda::Url"), "FunctionUrl"]}


def test_the_receiver_may_start_that_state_machine_and_read_that_secret_only():
    template = _synth()

    assert function_grants(template) == sorted(
        [
            (["states:StartExecution"], json.dumps(STATE_MACHINE_ARN)),
            (["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], json.dumps(SECRET_ARN)),
            (
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                json.dumps({"Fn::GetAtt": [only(template, "AWS::Logs::LogGroup"), "Arn"]}),
            ),
            (["xray:PutTelemetryRecords", "xray:PutTraceSegments"], json.dumps("*")),
        ]
    )


def test_it_shares_the_promotion_functions_bundle_and_layer():
    _, stack = _stack()
    promote = PromoteModel(
        stack, "PromoteModel", auth=MlflowAuth.none(), environment="test", tracking_uri="https://mlflow.example.com"
    )
    _trigger(stack, layer=promote.layer, platform=promote.platform)
    template = Template.from_stack(stack).to_json()

    functions = list(resources(template, "AWS::Lambda::Function").values())
    assert len(resources(template, "AWS::Lambda::LayerVersion")) == 1
    assert {json.dumps(f["Properties"]["Code"]) for f in functions} == {json.dumps(functions[0]["Properties"]["Code"])}
    assert {json.dumps(f["Properties"]["Layers"]) for f in functions} == {
        json.dumps(functions[0]["Properties"]["Layers"])
    }


def test_an_encryption_key_encrypts_its_logs_and_settings():
    _, stack = _stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    _trigger(stack, encryption_key=key)
    template = Template.from_stack(stack).to_json()

    key_arn = {"Fn::GetAtt": [only(template, "AWS::KMS::Key"), "Arn"]}
    assert _function(template)["KmsKeyArn"] == key_arn
    [log_group] = resources(template, "AWS::Logs::LogGroup").values()
    assert log_group["Properties"]["KmsKeyId"] == key_arn


def test_cdk_nag_finds_nothing_unacknowledged(tmp_path):
    app, stack = _stack(tmp_path)
    add_nag_checks(app)
    _trigger(stack, trigger_tag="promote=yes")

    app.synth()  # raises on an unacknowledged finding

    report = json.loads((tmp_path / "validation-report.json").read_text())
    assert [v for plugin in report["pluginReports"] for v in plugin.get("violations", [])] == []


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"trigger_alias": "latest"}, "trigger_alias"),
        ({"trigger_alias": "has space"}, "trigger_alias"),
        ({"trigger_tag": "no-equals-sign"}, "trigger_tag"),
        ({"trigger_alias": None}, "trigger_alias or trigger_tag"),
        ({"reserved_concurrency": 0}, "reserved_concurrency"),
    ],
)
def test_a_bad_option_fails_synthesis_naming_it(options, named):
    with pytest.raises(ValueError, match=named):
        _synth(**options)


def test_checkov_finds_nothing_unexplained(tmp_path):
    from tests.infra.checkov import checkov_executable, scan, unexplained

    _, stack = _stack()
    _trigger(stack)
    template = tmp_path / "trigger.template.json"
    template.write_text(json.dumps(Template.from_stack(stack).to_json()))

    results = scan(checkov_executable(), [template])

    assert unexplained(results) == []
    skipped = sorted({c["check_id"] for r in results for c in r["skipped_checks"]})
    assert skipped == ["CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_158", "CKV_AWS_173", "CKV_AWS_258"]
