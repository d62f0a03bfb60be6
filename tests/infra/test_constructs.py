"""The library's constructs, each in a bare ``Stack()``: the grants of every ``MlflowAuth`` variant,
the settings the function reads, and the fragment's rendered states."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Template

from promote_model_cdk import MlflowAuth, PromoteModel, PromoteModelFragment
from tests.infra.templates import DEFAULT_EVENT_BUS_ARN, function_grants, only, resources

TRACKING_URI = "https://mlflow.example.com"
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mlflow/promote-model-AbCdEf"
TRACKING_SERVER_ARN = "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/models"
FUNCTION_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:promote-model"
SAGEMAKER_ACTIONS = [
    "sagemaker-mlflow:GetModelVersion",
    "sagemaker-mlflow:GetModelVersionByAlias",
    "sagemaker-mlflow:GetRegisteredModel",
    "sagemaker-mlflow:SearchModelVersions",
    "sagemaker-mlflow:SetModelVersionTag",
    "sagemaker-mlflow:SetRegisteredModelAlias",
    "sagemaker-mlflow:TransitionModelVersionStage",
]


def _stack() -> Stack:
    # No bundling: these tests read the template, not the assets (tests/infra/test_bundle.py does).
    return Stack(App(context={"aws:cdk:bundling-stacks": []}), "Test")


def _imported_secret(stack: Stack) -> secretsmanager.ISecret:
    return secretsmanager.Secret.from_secret_complete_arn(stack, "Imported", SECRET_ARN)


def _grants_every_variant_holds(template: dict[str, Any]) -> list[tuple[list[str], str]]:
    """Logs on its own group, tracing, publish on the topic, and the key (topic and settings)."""
    key = {"Fn::GetAtt": [only(template, "AWS::KMS::Key"), "Arn"]}
    return [
        (["xray:PutTelemetryRecords", "xray:PutTraceSegments"], json.dumps("*")),
        (
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            json.dumps({"Fn::GetAtt": [only(template, "AWS::Logs::LogGroup"), "Arn"]}),
        ),
        (["sns:Publish"], json.dumps({"Ref": only(template, "AWS::SNS::Topic")})),
        (["kms:Decrypt", "kms:GenerateDataKey*"], json.dumps(key)),
        (["events:PutEvents"], json.dumps(DEFAULT_EVENT_BUS_ARN)),
    ]


def _synth(auth: MlflowAuth | None = None, **options: Any) -> dict[str, Any]:
    stack = _stack()
    PromoteModel(
        stack,
        "PromoteModel",
        tracking_uri=options.pop("tracking_uri", TRACKING_URI),
        auth=auth if auth is not None else MlflowAuth.basic(),
        environment="test",
        **options,
    )
    return Template.from_stack(stack).to_json()


def _settings(template: dict[str, Any]) -> dict[str, Any]:
    [function] = resources(template, "AWS::Lambda::Function").values()
    return function["Properties"]["Environment"]["Variables"]


def test_basic_auth_without_a_secret_creates_one_and_may_read_only_that_one():
    template = _synth(MlflowAuth.basic())

    secret = only(template, "AWS::SecretsManager::Secret")
    assert function_grants(template) == sorted(
        [
            *_grants_every_variant_holds(template),
            (["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], json.dumps({"Ref": secret})),
        ]
    )
    assert _settings(template)["MLFLOW_CREDENTIALS_SECRET_ARN"] == {"Ref": secret}


def test_basic_auth_with_a_secret_creates_none_and_may_read_only_that_one():
    stack = _stack()
    PromoteModel(
        stack,
        "PromoteModel",
        tracking_uri=TRACKING_URI,
        auth=MlflowAuth.basic(_imported_secret(stack)),
        environment="t",
    )
    template = Template.from_stack(stack).to_json()

    assert resources(template, "AWS::SecretsManager::Secret") == {}
    assert function_grants(template) == sorted(
        [
            *_grants_every_variant_holds(template),
            (["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], json.dumps(SECRET_ARN)),
        ]
    )
    assert _settings(template)["MLFLOW_CREDENTIALS_SECRET_ARN"] == SECRET_ARN


def test_token_auth_may_read_only_its_secret():
    stack = _stack()
    PromoteModel(
        stack,
        "PromoteModel",
        tracking_uri=TRACKING_URI,
        auth=MlflowAuth.token(_imported_secret(stack)),
        environment="t",
    )
    template = Template.from_stack(stack).to_json()

    assert resources(template, "AWS::SecretsManager::Secret") == {}
    assert function_grants(template) == sorted(
        [
            *_grants_every_variant_holds(template),
            (["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], json.dumps(SECRET_ARN)),
        ]
    )
    assert _settings(template)["MLFLOW_CREDENTIALS_SECRET_ARN"] == SECRET_ARN


def test_sagemaker_auth_may_call_the_registry_actions_on_that_tracking_serveronly():
    template = _synth(MlflowAuth.sagemaker(TRACKING_SERVER_ARN), tracking_uri=None)

    assert resources(template, "AWS::SecretsManager::Secret") == {}
    assert function_grants(template) == sorted(
        [*_grants_every_variant_holds(template), (SAGEMAKER_ACTIONS, json.dumps(TRACKING_SERVER_ARN))]
    )
    settings = _settings(template)
    assert settings["MLFLOW_TRACKING_URI"] == TRACKING_SERVER_ARN
    assert "MLFLOW_CREDENTIALS_SECRET_ARN" not in settings
    assert "MLFLOW_ALLOW_INSECURE_HTTP" not in settings


def test_no_auth_grants_nothing_beyond_what_every_variant_holds():
    template = _synth(MlflowAuth.none())

    assert resources(template, "AWS::SecretsManager::Secret") == {}
    assert function_grants(template) == sorted(_grants_every_variant_holds(template))
    assert "MLFLOW_CREDENTIALS_SECRET_ARN" not in _settings(template)


def test_a_given_topic_is_used_and_the_function_may_publish_to_it():
    stack = _stack()
    topic = sns.Topic.from_topic_arn(stack, "Topic", "arn:aws:sns:eu-west-1:123456789012:ml-alerts")

    promote = PromoteModel(
        stack, "PromoteModel", tracking_uri=TRACKING_URI, auth=MlflowAuth.none(), alert_topic=topic, environment="t"
    )

    template = Template.from_stack(stack).to_json()
    assert promote.alert_topic is topic
    assert resources(template, "AWS::SNS::Topic") == {}
    assert _settings(template)["ALERT_TOPIC_ARN"] == "arn:aws:sns:eu-west-1:123456789012:ml-alerts"
    assert (["sns:Publish"], json.dumps("arn:aws:sns:eu-west-1:123456789012:ml-alerts")) in function_grants(template)
    [alarm] = resources(template, "AWS::CloudWatch::Alarm").values()
    assert alarm["Properties"]["AlarmActions"] == ["arn:aws:sns:eu-west-1:123456789012:ml-alerts"]


def test_every_setting_the_function_reads_comes_from_an_option():
    template = _synth(
        registry_name="acme-models",
        alerts_enabled=False,
        promotion_alias="prod",
        challenger_alias="candidate",
        audit_tags=False,
        allow_insecure_http=True,
        subject_prefix="[Acme]",
        detailed_tracing=True,
        tracking_uri="http://mlflow.internal:5000",
    )

    settings = _settings(template)
    del settings["MLFLOW_CREDENTIALS_SECRET_ARN"], settings["ALERT_TOPIC_ARN"], settings["EVENT_BUS_NAME"]
    assert settings == {
        "MLFLOW_TRACKING_URI": "http://mlflow.internal:5000",
        "MLFLOW_ALLOW_INSECURE_HTTP": "true",
        "MODEL_REGISTRY_NAME": "acme-models",
        "ENVIRONMENT": "test",
        "ALERTS_ENABLED": "false",
        "PROMOTION_ALIAS": "prod",
        "CHALLENGER_ALIAS": "candidate",
        "AUDIT_TAGS_ENABLED": "false",
        "NOTIFICATION_SUBJECT_PREFIX": "[Acme]",
        "POWERTOOLS_SERVICE_NAME": "promote-model",
        "POWERTOOLS_METRICS_NAMESPACE": "PromoteModel",
        "POWERTOOLS_TRACE_DISABLED": "false",
    }


def test_events_go_to_the_given_bus_or_nowhere():
    stack = _stack()
    bus = events.EventBus.from_event_bus_arn(stack, "Bus", "arn:aws:events:eu-west-1:123456789012:event-bus/ml")
    PromoteModel(stack, "WithBus", tracking_uri=TRACKING_URI, auth=MlflowAuth.none(), environment="t", event_bus=bus)
    PromoteModel(
        stack, "NoEvents", tracking_uri=TRACKING_URI, auth=MlflowAuth.none(), environment="t", events_enabled=False
    )

    template = Template.from_stack(stack).to_json()

    functions = resources(template, "AWS::Lambda::Function")
    by_construct = {k.split("Function")[0]: k for k in functions}
    with_bus, no_events = by_construct["WithBus"], by_construct["NoEvents"]
    assert functions[with_bus]["Properties"]["Environment"]["Variables"]["EVENT_BUS_NAME"] == "ml"
    assert (["events:PutEvents"], json.dumps("arn:aws:events:eu-west-1:123456789012:event-bus/ml")) in function_grants(
        template, with_bus
    )
    assert functions[no_events]["Properties"]["Environment"]["Variables"]["EVENT_BUS_NAME"] == ""
    assert not any("events:PutEvents" in actions for actions, _ in function_grants(template, no_events))


def test_defaults_are_the_specifications():
    template = _synth()

    [function] = resources(template, "AWS::Lambda::Function").values()
    properties = function["Properties"]
    assert (properties["Runtime"], properties["Timeout"], properties["MemorySize"]) == ("python3.11", 60, 256)
    assert properties["ReservedConcurrentExecutions"] == 1
    assert properties["KmsKeyArn"] == {"Fn::GetAtt": [only(template, "AWS::KMS::Key"), "Arn"]}
    settings = _settings(template)
    assert (settings["PROMOTION_ALIAS"], settings["NOTIFICATION_SUBJECT_PREFIX"]) == ("champion", "[TradAI]")
    assert (settings["MODEL_REGISTRY_NAME"], settings["AUDIT_TAGS_ENABLED"]) == ("tradai-models", "true")
    assert settings["EVENT_BUS_NAME"] == "default"
    assert "CHALLENGER_ALIAS" not in settings
    [log_group] = resources(template, "AWS::Logs::LogGroup").values()
    assert log_group["Properties"]["RetentionInDays"] == 30


def test_checkov_skips_carry_their_reasons_on_the_function():
    template = _synth()

    [function] = resources(template, "AWS::Lambda::Function").values()
    skips = {s["id"]: s["comment"] for s in function["Metadata"]["checkov"]["skip"]}
    assert set(skips) == {"CKV_AWS_116", "CKV_AWS_117"}
    assert all(len(reason.split()) >= 10 for reason in skips.values())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"promotion_alias": "latest"}, "promotion_alias must be an MLflow alias"),
        ({"challenger_alias": "has space"}, "challenger_alias must be an MLflow alias"),
        ({"tracking_uri": "mlflow.example.com"}, "tracking_uri must be the MLflow server's http"),
    ],
)
def test_invalid_options_fail_synthesis_naming_the_option(options, message):
    with pytest.raises(ValueError, match=message):
        _synth(**options)


def test_sagemaker_needs_a_tracking_server_arn():
    with pytest.raises(ValueError, match="needs a tracking server ARN"):
        MlflowAuth.sagemaker("https://mlflow.example.com")


# --- PromoteModelFragment ---------------------------------------------------------------------


def _states(stack: Stack, definition: sfn.IChainable) -> dict[str, Any]:
    graph = sfn.StateGraph(definition.start_state, "test")  # type: ignore[attr-defined]
    return stack.resolve(graph.to_graph_json())["States"]


def _function(stack: Stack) -> lambda_.IFunction:
    return lambda_.Function.from_function_arn(stack, "Function", FUNCTION_ARN)


def test_fragment_defaults_to_todays_input_paths_and_unprefixed_names():
    stack = _stack()
    fragment = PromoteModelFragment(
        stack,
        "Promotion",
        function=_function(stack),
        on_not_promoted=sfn.Succeed(stack, "Keep"),
        on_failure=sfn.Fail(stack, "Failed"),
    )

    states = _states(stack, fragment)

    assert set(states) == {
        *("IsNewVersionGiven", "NoNewVersionGiven", "NewVersionIsNull"),  # an absent version reads as null
        *("PromoteModel", "WasModelPromoted", "ModelPromoted", "Keep", "Failed"),
    }
    assert states["PromoteModel"]["Parameters"] == {
        "model_name.$": "$.model_name",
        "new_version.$": "$.challenger_version",
        "confidence.$": "$.comparison.confidence",
        "execution_id.$": "$$.Execution.Id",
    }
    assert states["PromoteModel"]["ResultPath"] == "$.promotion"


def test_fragment_takes_its_inputs_as_jsonpath_values_and_prefixes_every_state_name():
    stack = _stack()
    fragment = PromoteModelFragment(
        stack,
        "Forecaster",
        function=_function(stack),
        on_not_promoted=sfn.Succeed(stack, "Keep"),
        on_failure=sfn.Fail(stack, "Failed"),
        model_name=sfn.JsonPath.string_at("$.models.forecaster.name"),
        new_version=sfn.JsonPath.string_at("$.training.forecaster.version"),
        confidence=sfn.JsonPath.number_at("$.evaluation.forecaster.confidence"),
        execution_id=sfn.JsonPath.string_at("$.run_id"),
        result_path="$.promotions.forecaster",
        state_prefix="Forecaster-",
    )

    states = _states(stack, fragment)

    task = states["Forecaster-PromoteModel"]
    assert task["Parameters"] == {
        "model_name.$": "$.models.forecaster.name",
        "new_version.$": "$.training.forecaster.version",
        "confidence.$": "$.evaluation.forecaster.confidence",
        "execution_id.$": "$.run_id",
    }
    assert task["ResultPath"] == "$.promotions.forecaster"
    assert task["Next"] == "Forecaster-WasModelPromoted"
    assert [c["ErrorEquals"] for c in task["Catch"]] == [
        ["RegistryAuthError", "ConfigurationError", "RegistryResponseError"],
        ["States.ALL"],
    ]
    assert [r["ErrorEquals"][0] for r in task["Retry"]] == [
        "RegistryUnavailableError",
        "Lambda.TooManyRequestsException",
    ]
    assert states["Forecaster-WasModelPromoted"]["Choices"] == [
        {"Variable": "$.promotions.forecaster.promoted", "BooleanEquals": True, "Next": "Forecaster-ModelPromoted"}
    ]


def test_fragment_takes_literal_inputs_too():
    stack = _stack()
    fragment = PromoteModelFragment(
        stack, "P", function=_function(stack), on_not_promoted=sfn.Succeed(stack, "Keep"), on_failure=sfn.Fail(stack, "Failed"),
        model_name="PascalStrategy", new_version="3", confidence=0.9,
    )  # fmt: skip

    parameters = _states(stack, fragment)["PromoteModel"]["Parameters"]

    assert parameters == {
        "model_name": "PascalStrategy",
        "new_version": "3",
        "confidence": 0.9,
        "execution_id.$": "$$.Execution.Id",
    }


def test_two_fragments_fit_in_one_state_machine():
    stack = _stack()
    promote = PromoteModel(stack, "PromoteModel", tracking_uri=TRACKING_URI, auth=MlflowAuth.none(), environment="t")
    done, failed = sfn.Succeed(stack, "Done"), sfn.Fail(stack, "Failed")
    second = promote.fragment(stack, "Second", on_not_promoted=done, on_failure=failed, state_prefix="Second-")
    first = promote.fragment(stack, "First", on_not_promoted=second, on_failure=failed, state_prefix="First-")

    sfn.StateMachine(stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(first.next(second).next(done)))

    [machine] = resources(Template.from_stack(stack).to_json(), "AWS::StepFunctions::StateMachine").values()
    text = json.dumps(machine["Properties"]["DefinitionString"])
    for prefix in ("First-", "Second-"):
        for name in ("PromoteModel", "WasModelPromoted", "ModelPromoted"):
            assert f'\\"{prefix}{name}\\":{{' in text


def test_two_unprefixed_fragments_in_one_state_machine_fail_on_duplicate_names():
    stack = _stack()
    promote = PromoteModel(stack, "PromoteModel", tracking_uri=TRACKING_URI, auth=MlflowAuth.none(), environment="t")
    done, failed = sfn.Succeed(stack, "Done"), sfn.Fail(stack, "Failed")
    second = promote.fragment(stack, "Second", on_not_promoted=done, on_failure=failed)
    first = promote.fragment(stack, "First", on_not_promoted=second, on_failure=failed)

    with pytest.raises(RuntimeError, match="State with name 'IsNewVersionGiven' occurs in both"):
        sfn.StateMachine(
            stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(first.next(second).next(done))
        )
