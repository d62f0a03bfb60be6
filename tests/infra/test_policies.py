"""The promotion policies as construct options and per-environment cdk.json keys: the mode, copy
mode's target model and the promotion gates become the function's settings, checked at synthesis."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from infra.app_factory import build_app
from infra.config import ConfigError
from promote_model_cdk import MlflowAuth, PromoteModel, PromotionGates
from tests.infra.conftest import cdk_context, synthesize
from tests.infra.templates import function_grants, resources

TRACKING_URI = "https://mlflow.example.com"
TRACKING_SERVER_ARN = "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/models"
POLICY_SETTINGS = {
    "PROMOTION_MODE",
    "TARGET_MODEL_NAME",
    "MIN_CONFIDENCE",
    "REQUIRED_VERSION_TAGS",
    "GATE_METRIC",
    "GATE_METRIC_GOAL",
    "GATE_MIN_IMPROVEMENT",
}


def _synth(auth: MlflowAuth | None = None, **options: Any) -> dict[str, Any]:
    stack = Stack(App(context={"aws:cdk:bundling-stacks": []}), "Test")
    options.setdefault("tracking_uri", TRACKING_URI)
    PromoteModel(stack, "PromoteModel", auth=auth or MlflowAuth.none(), environment="t", **options)
    return Template.from_stack(stack).to_json()


def _settings(template: dict[str, Any]) -> dict[str, Any]:
    [function] = resources(template, "AWS::Lambda::Function").values()
    return function["Properties"]["Environment"]["Variables"]


def test_copy_mode_and_every_gate_become_the_functions_settings():
    gates = PromotionGates(
        min_confidence=0.8,
        required_version_tags={"validation_status": "approved", "team": "quant"},
        metric="val_loss",
        metric_goal="minimize",
        min_improvement=0.01,
    )

    settings = _settings(_synth(promotion_mode="copy", target_model_name="prod-{model_name}", gates=gates))

    assert {key: settings[key] for key in POLICY_SETTINGS} == {
        "PROMOTION_MODE": "copy",
        "TARGET_MODEL_NAME": "prod-{model_name}",
        "MIN_CONFIDENCE": "0.8",
        "REQUIRED_VERSION_TAGS": "validation_status=approved,team=quant",
        "GATE_METRIC": "val_loss",
        "GATE_METRIC_GOAL": "minimize",
        "GATE_MIN_IMPROVEMENT": "0.01",
    }


def test_the_defaults_add_no_setting():
    assert POLICY_SETTINGS.isdisjoint(_settings(_synth()))
    assert POLICY_SETTINGS.isdisjoint(_settings(_synth(gates=PromotionGates())))


def test_alias_mode_is_a_setting_too():
    assert _settings(_synth(promotion_mode="alias"))["PROMOTION_MODE"] == "alias"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"promotion_mode": "copy"}, "target_model_name is required with promotion_mode='copy'"),
        ({"target_model_name": "prod-{model_name}"}, "target_model_name is required with promotion_mode='copy'"),
        ({"promotion_mode": "copy", "target_model_name": "prod-{name}"}, "target_model_name must be a model name"),
        ({"promotion_mode": "copy", "target_model_name": "{model_name}"}, "target_model_name must be a model name"),
        ({"promotion_mode": "copy", "target_model_name": "prod/{model_name}"}, "without '/' or ':'"),
        ({"promotion_mode": "copy", "target_model_name": "p", "promotion_alias": None}, "needs promotion_alias"),
        ({"promotion_mode": "blue-green"}, "promotion_mode must be one of stage, alias, copy"),
    ],
)
def test_invalid_policy_options_fail_synthesis_naming_the_option(options, message):
    with pytest.raises(ValueError, match=message):
        _synth(**options)


@pytest.mark.parametrize(
    ("gates", "message"),
    [
        ({"min_confidence": 1.5}, "gates.min_confidence must be a number from 0 to 1"),
        ({"min_confidence": float("nan")}, "gates.min_confidence"),
        ({"required_version_tags": {"a,b": "x"}}, "not a tag key"),
        ({"required_version_tags": {"stage": "a,b"}}, "without ','"),
        ({"metric": "auc;"}, "gates.metric must be an MLflow metric key"),
        ({"metric": "auc", "metric_goal": "highest"}, "gates.metric_goal"),
        ({"metric": "auc", "min_improvement": -0.1}, "gates.min_improvement"),
        ({"min_improvement": 0.1}, "need gates.metric"),
    ],
)
def test_invalid_gates_are_refused_naming_the_field(gates, message):
    with pytest.raises(ValueError, match=message):
        PromotionGates(**gates)


def test_on_sagemaker_copy_mode_and_the_metric_gate_add_only_their_registry_actions():
    def sagemaker_actions(**options: Any) -> list[str]:
        template = _synth(MlflowAuth.sagemaker(TRACKING_SERVER_ARN), tracking_uri=None, **options)
        [actions] = [a for a, resource in function_grants(template) if resource == json.dumps(TRACKING_SERVER_ARN)]
        return actions

    plain = sagemaker_actions()
    copying = sagemaker_actions(promotion_mode="copy", target_model_name="prod-{model_name}")
    gated = sagemaker_actions(gates=PromotionGates(metric="auc"))

    assert set(copying) - set(plain) == {
        "sagemaker-mlflow:CreateModelVersion",
        "sagemaker-mlflow:CreateRegisteredModel",
    }
    assert set(gated) - set(plain) == {"sagemaker-mlflow:GetRun"}
    assert "sagemaker-mlflow:GetRun" not in plain


def test_cdk_json_sets_copy_mode_and_the_gates_per_environment(tmp_path):
    synthesized = synthesize(
        tmp_path,
        "prod",
        promotion_mode="copy",
        target_model_name="prod-{model_name}",
        gates={"min_confidence": 0.7, "required_version_tags": {"validation_status": "approved"}, "metric": "auc"},
    )

    [function] = synthesized.resources("AWS::Lambda::Function").values()
    variables = function["Properties"]["Environment"]["Variables"]
    assert (variables["PROMOTION_MODE"], variables["TARGET_MODEL_NAME"]) == ("copy", "prod-{model_name}")
    assert (variables["MIN_CONFIDENCE"], variables["REQUIRED_VERSION_TAGS"]) == ("0.7", "validation_status=approved")
    assert (variables["GATE_METRIC"], variables["GATE_METRIC_GOAL"]) == ("auc", "maximize")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"promotion_mode": "copy"}, "environment 'dev': target_model_name is required"),
        ({"gates": {"min_confidence": 2}}, "environment 'dev': gates.min_confidence"),
        ({"gates": {"threshold": 0.5}}, "environment 'dev': gates must be an object with keys among"),
        ({"gates": {"metric": "auc", "metric_goal": "up"}}, "environment 'dev': gates.metric_goal"),
    ],
)
def test_invalid_policies_in_cdk_json_fail_synthesis_naming_the_environment(overrides, message):
    with pytest.raises(ConfigError, match=message):
        build_app(cdk_context("dev", **overrides))
