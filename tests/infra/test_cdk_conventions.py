"""The library behaves like a CDK construct library, each construct in a bare ``Stack()``: tokens pass
through, one layer per stack, ``on_promoted``, the ``metric_*`` helpers over what the handler really
emits, ``PromotionDashboard``, synth-time checks and warnings, grants for customer keys."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import CfnParameter
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Template

from promote_model.errors import RegistryUnavailableError
from promote_model.observability import metrics, record_error, record_outcome
from promote_model.results import NotPromoted, Promoted, ReasonCode
from promote_model_cdk import MlflowAuth, PromotionDashboard
from tests.infra.stacks import bare_stack, make_promote_model
from tests.infra.templates import DEFAULT_EVENT_BUS_ARN, resources


def _settings(template: dict[str, Any], function_id: str | None = None) -> dict[str, Any]:
    functions = resources(template, "AWS::Lambda::Function")
    function = functions[function_id] if function_id else next(iter(functions.values()))
    return function["Properties"]["Environment"]["Variables"]


# --- tokens -----------------------------------------------------------------------------------------


def test_deploy_time_tracking_uri_and_environment_pass_through_untouched():
    stack = bare_stack()
    uri = CfnParameter(stack, "TrackingUri", type="String")
    environment = ssm.StringParameter.value_for_string_parameter(stack, "/promote-model/environment")

    make_promote_model(stack, tracking_uri=uri.value_as_string, environment=environment, auth=MlflowAuth.basic())
    template = Template.from_stack(stack).to_json()
    settings = _settings(template)

    assert settings["MLFLOW_TRACKING_URI"] == {"Ref": "TrackingUri"}
    parameter = settings["ENVIRONMENT"]["Ref"]
    assert template["Parameters"][parameter]["Type"] == "AWS::SSM::Parameter::Value<String>"
    assert template["Parameters"][parameter]["Default"] == "/promote-model/environment"


def test_a_deploy_time_sagemaker_arn_is_the_tracking_uri_and_the_granted_resource():
    stack = bare_stack()
    arn = CfnParameter(stack, "TrackingServerArn", type="String")

    make_promote_model(stack, tracking_uri=None, auth=MlflowAuth.sagemaker(arn.value_as_string))
    template = Template.from_stack(stack).to_json()

    assert _settings(template)["MLFLOW_TRACKING_URI"] == {"Ref": "TrackingServerArn"}
    statements = [
        s
        for p in resources(template, "AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert any(
        s["Resource"] == {"Ref": "TrackingServerArn"} and "sagemaker-mlflow" in str(s["Action"]) for s in statements
    )


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (
            lambda s: make_promote_model(s, tracking_uri="mlflow.example.com"),
            "tracking_uri must be the MLflow server's http",
        ),
        (lambda s: make_promote_model(s, environment=" "), "environment must be a non-blank name"),
        (lambda s: MlflowAuth.sagemaker("arn:aws:sagemaker:eu-west-1:1:model/x"), "tracking server ARN"),
    ],
)
def test_a_concrete_bad_value_is_refused_showing_the_value_and_what_was_expected(build, expected):
    with pytest.raises(ValueError, match=expected) as refused:
        build(bare_stack())

    message = str(refused.value)
    assert "got '" in message  # the value given
    assert "token" in message  # and that a deploy-time value would be accepted


# --- one layer ---------------------------------------------------------------------------------------


def test_every_promote_model_of_a_stack_shares_one_dependency_layer():
    stack = bare_stack()
    first = make_promote_model(stack, "First")
    second = make_promote_model(stack, "Second", environment="other")
    template = Template.from_stack(stack).to_json()

    [layer_id] = resources(template, "AWS::Lambda::LayerVersion")
    assert first.layer is second.layer
    for function in resources(template, "AWS::Lambda::Function").values():
        assert function["Properties"]["Layers"] == [{"Ref": layer_id}]
    assert first.layer.node.id == "PromoteModelDependencies-python3.11-x86_64"


def test_a_function_of_another_runtime_or_architecture_gets_its_own_layer():
    stack = bare_stack()
    default = make_promote_model(stack, "Default")
    arm = make_promote_model(
        stack, "Arm", runtime=lambda_.Runtime.PYTHON_3_13, architecture=lambda_.Architecture.ARM_64
    )
    arm_too = make_promote_model(
        stack, "ArmToo", runtime=lambda_.Runtime.PYTHON_3_13, architecture=lambda_.Architecture.ARM_64
    )

    assert len(resources(Template.from_stack(stack).to_json(), "AWS::Lambda::LayerVersion")) == 2
    assert arm.layer is arm_too.layer
    assert arm.layer is not default.layer
    assert arm.layer.node.id == "PromoteModelDependencies-python3.13-arm64"


# --- on_promoted -------------------------------------------------------------------------------------


def test_on_promoted_matches_the_functions_promoted_event_on_its_bus_and_targets_the_queue():
    stack = bare_stack()
    queue = sqs.Queue(stack, "Deployments")

    rule = make_promote_model(stack).on_promoted("OnPromoted", target=targets.SqsQueue(queue))
    [props] = [r["Properties"] for r in resources(Template.from_stack(stack).to_json(), "AWS::Events::Rule").values()]

    assert rule.rule_arn
    # the exact shape lambda_src/promote_model/events.py and runtime.announce send
    assert props["EventPattern"] == {
        "source": ["promote-model"],
        "detail-type": ["Model Promotion"],
        "detail": {"outcome": ["promoted"]},
    }
    assert props["EventBusName"] == "default"
    assert props["Targets"][0]["Arn"] == {"Fn::GetAtt": [stack.get_logical_id(queue.node.default_child), "Arn"]}


def test_the_function_puts_its_events_on_the_bus_the_rule_listens_to():
    stack = bare_stack()
    make_promote_model(stack).on_promoted("OnPromoted")
    template = Template.from_stack(stack).to_json()

    assert _settings(template)["EVENT_BUS_NAME"] == "default"
    assert json.dumps(DEFAULT_EVENT_BUS_ARN) in json.dumps(template)


def test_on_promoted_without_events_fails_at_synth_saying_why():
    stack = bare_stack()
    promote_model = make_promote_model(stack, events_enabled=False)

    with pytest.raises(ValueError, match="events_enabled=False"):
        promote_model.on_promoted("OnPromoted")


def test_on_outcome_refuses_an_outcome_the_function_never_sends():
    with pytest.raises(ValueError, match="got \\['promotion'\\]"):
        make_promote_model(bare_stack()).on_outcome("Rule", outcomes=["promotion"])


# --- metrics -----------------------------------------------------------------------------------------


def _emitted(capsys: pytest.CaptureFixture[str]) -> set[tuple[str, str, frozenset[tuple[str, str]]]]:
    """Every (namespace, metric, dimensions) the handler's EMF lines on stdout carry."""
    found = set()
    for line in capsys.readouterr().out.splitlines():
        if '"_aws"' not in line:
            continue
        record = json.loads(line)
        for directive in record["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                dimensions = frozenset((name, record[name]) for name in dimension_set)
                for metric in directive["Metrics"]:
                    found.add((directive["Namespace"], metric["Name"], dimensions))
    return found


def _alarmed(template: dict[str, Any]) -> set[tuple[str, str, frozenset[tuple[str, str]]]]:
    return {
        (
            p["Namespace"],
            p["MetricName"],
            frozenset((d["Name"], d["Value"]) for d in p.get("Dimensions", [])),
        )
        for p in (a["Properties"] for a in resources(template, "AWS::CloudWatch::Alarm").values())
        if p["Namespace"] != "AWS/Lambda"  # the construct's own alarm on Lambda's errors
    }


def test_the_metric_helpers_name_exactly_what_the_handler_emits(capsys):
    # Given the handler's own observability code recording one outcome of each kind
    capsys.readouterr()
    record_outcome(Promoted("m", "2", "1", 0.9, already_promoted=False))
    record_outcome(NotPromoted(ReasonCode.NO_STAGING_VERSION, "No Staging version found"))
    record_error(RegistryUnavailableError("down"), "m")
    metrics.flush_metrics()
    emitted = _emitted(capsys)

    # When alarms are made on the helpers
    stack = bare_stack()
    promote_model = make_promote_model(stack)
    for id, metric in {
        "Promotions": promote_model.metric_promotions(),
        "NotPromoted": promote_model.metric_not_promoted(),
        "NoStaging": promote_model.metric_not_promoted(reason_code="NO_STAGING_VERSION"),
        "Errors": promote_model.metric_errors(),
        "Unavailable": promote_model.metric_errors(error_type="RegistryUnavailableError"),
    }.items():
        metric.create_alarm(stack, id, threshold=1, evaluation_periods=1)
    alarmed = _alarmed(Template.from_stack(stack).to_json())

    # Then each alarm watches a series the handler really writes
    assert len(alarmed) == 5
    assert alarmed <= emitted, alarmed - emitted


def test_metric_duration_is_this_functions_lambda_duration():
    stack = bare_stack()
    promote_model = make_promote_model(stack)
    promote_model.metric_duration().create_alarm(stack, "Slow", threshold=50_000, evaluation_periods=1)
    template = Template.from_stack(stack).to_json()

    [slow] = [a["Properties"] for k, a in resources(template, "AWS::CloudWatch::Alarm").items() if k.startswith("Slow")]
    assert (slow["Namespace"], slow["MetricName"], slow["ExtendedStatistic"]) == ("AWS/Lambda", "Duration", "p99")
    assert slow["Dimensions"] == [
        {"Name": "FunctionName", "Value": {"Ref": stack.get_logical_id(promote_model.function.node.default_child)}}
    ]


# --- dashboard ---------------------------------------------------------------------------------------


def test_the_dashboard_shows_promotions_reasons_errors_durations_and_executions():
    stack = bare_stack()
    first, second = make_promote_model(stack, "First"), make_promote_model(stack, "Second")
    machine = sfn.StateMachine(
        stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(sfn.Pass(stack, "P"))
    )

    PromotionDashboard(stack, "Dashboard", functions=[first, second], state_machine=machine)
    [dashboard] = resources(Template.from_stack(stack).to_json(), "AWS::CloudWatch::Dashboard").values()
    _, parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"]
    body = json.loads("".join(part if isinstance(part, str) else "REF" for part in parts))
    graphs = {w["properties"]["title"]: w["properties"]["metrics"] for w in body["widgets"]}

    assert graphs["Promotions"] == [
        ["PromoteModel", "Promoted", "service", "promote-model", {"label": "Promoted", "stat": "Sum"}]
    ]
    [[by_reason]] = graphs["Not promoted, by reason code"]
    assert by_reason["expression"] == (
        "SEARCH('{PromoteModel,reason_code,service} MetricName=\"NotPromoted\" service=\"promote-model\"', 'Sum', 300)"
    )
    [[by_type]] = graphs["Errors, by type"]
    assert '{PromoteModel,error_type,service} MetricName="Error"' in by_type["expression"]
    durations = graphs["Duration (ms)"]
    assert [(m[0], m[1], m[-1]["stat"]) for m in durations] == [
        ("AWS/Lambda", "Duration", stat) for stat in ("p50", "p99") * 2
    ]
    executions = [m[1] for m in graphs["Workflow executions"]]
    assert executions == ["ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut"]


def test_a_dashboard_of_no_function_is_refused():
    with pytest.raises(ValueError, match="at least one PromoteModel"):
        PromotionDashboard(bare_stack(), "Dashboard", functions=[])
