"""The function's runtime and architecture: python3.11 on x86_64 by default, python3.12/3.13 and
arm64 by choice (the construct's props and cdk.json's keys), the layer declared for exactly that
platform, and anything else refused at synthesis with the prop and the allowed values named."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

from infra.app_factory import build_app
from infra.config import ConfigError, load_environment
from promote_model_cdk import MlflowAuth, PromoteModel
from tests.infra.conftest import cdk_context
from tests.infra.stacks import make_promote_model
from tests.infra.templates import resources

RUNTIMES = [lambda_.Runtime.PYTHON_3_11, lambda_.Runtime.PYTHON_3_12, lambda_.Runtime.PYTHON_3_13]
ARCHITECTURES = [lambda_.Architecture.X86_64, lambda_.Architecture.ARM_64]
NO_BUNDLING = {"aws:cdk:bundling-stacks": []}  # these tests read templates; test_layer_binaries reads assets


def _template(**props: Any) -> dict[str, Any]:
    stack = Stack(App(context=NO_BUNDLING), "Test")
    make_promote_model(stack, environment="t", **props)
    return Template.from_stack(stack).to_json()


def _function_and_layer(template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    [function] = resources(template, "AWS::Lambda::Function").values()
    [layer] = resources(template, "AWS::Lambda::LayerVersion").values()
    return function["Properties"], layer["Properties"]


def _platform_of(template: dict[str, Any]) -> dict[str, Any]:
    function, layer = _function_and_layer(template)
    return {
        "function": (function["Runtime"], function["Architectures"]),
        "layer": (layer["CompatibleRuntimes"], layer["CompatibleArchitectures"]),
    }


def test_the_default_is_the_specifications_python3_11_on_x86_64():
    assert _platform_of(_template()) == {
        "function": ("python3.11", ["x86_64"]),
        "layer": (["python3.11"], ["x86_64"]),
    }


@pytest.mark.parametrize("architecture", ARCHITECTURES, ids=lambda a: a.name)
@pytest.mark.parametrize("runtime", RUNTIMES, ids=lambda r: r.name)
def test_the_function_and_its_layer_run_on_the_chosen_runtime_and_architecture(runtime, architecture):
    template = _template(runtime=runtime, architecture=architecture)

    assert _platform_of(template) == {
        "function": (runtime.name, [architecture.name]),
        "layer": ([runtime.name], [architecture.name]),
    }
    _, layer = _function_and_layer(template)
    assert f"for {runtime.name} on {architecture.name}" in layer["Description"]


def test_two_platforms_in_one_app_get_two_layers_with_their_own_assets():
    stack = Stack(App(context=NO_BUNDLING), "Test")
    for name, runtime, architecture in [
        ("Intel", lambda_.Runtime.PYTHON_3_11, lambda_.Architecture.X86_64),
        ("Graviton", lambda_.Runtime.PYTHON_3_13, lambda_.Architecture.ARM_64),
    ]:
        PromoteModel(
            stack,
            name,
            tracking_uri="https://mlflow.example.com",
            auth=MlflowAuth.none(),
            environment="t",
            runtime=runtime,
            architecture=architecture,
        )

    layers = resources(Template.from_stack(stack).to_json(), "AWS::Lambda::LayerVersion").values()

    assert sorted(layer["Properties"]["CompatibleArchitectures"][0] for layer in layers) == ["arm64", "x86_64"]
    assert len({layer["Properties"]["Content"]["S3Key"] for layer in layers}) == 2  # pip runs for each


@pytest.mark.parametrize(
    "runtime",
    [lambda_.Runtime.PYTHON_3_10, lambda_.Runtime.PYTHON_3_14, lambda_.Runtime.NODEJS_22_X],
    ids=lambda r: r.name,
)
def test_an_unsupported_runtime_fails_synthesis_naming_the_prop_and_the_choices(runtime):
    with pytest.raises(
        ValueError, match=r"runtime must be aws_lambda\.Runtime\.PYTHON_3_11, PYTHON_3_12 or PYTHON_3_13"
    ) as error:
        _template(runtime=runtime)

    assert repr(runtime.name) in str(error.value)


def test_an_unsupported_architecture_fails_synthesis_naming_the_prop_and_the_choices():
    with pytest.raises(
        ValueError,
        match=r"architecture must be aws_lambda\.Architecture\.X86_64 or aws_lambda\.Architecture\.ARM_64.*'s390x'",
    ):
        _template(architecture=lambda_.Architecture.custom("s390x"))


def test_cdk_json_picks_the_runtime_and_architecture_of_each_environment():
    app, stack = build_app(cdk_context("prod", lambda_runtime="python3.13", lambda_architecture="arm64") | NO_BUNDLING)

    template = app.synth().get_stack_by_name(stack.stack_name).template

    [function] = [
        f["Properties"]
        for f in resources(template, "AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "promote_model.handler.lambda_handler"
    ]
    [layer] = resources(template, "AWS::Lambda::LayerVersion").values()
    assert (function["Runtime"], function["Architectures"]) == ("python3.13", ["arm64"])
    assert (layer["Properties"]["CompatibleRuntimes"], layer["Properties"]["CompatibleArchitectures"]) == (
        ["python3.13"],
        ["arm64"],
    )


def test_cdk_json_environments_state_the_default_platform():
    for environment in ("dev", "staging", "prod"):
        config = load_environment(cdk_context(environment), environment)
        assert (config.lambda_runtime, config.lambda_architecture) == ("python3.11", "x86_64")
    local = load_environment(cdk_context("local"), "local")  # not in cdk.json: the defaults
    assert (local.lambda_runtime, local.lambda_architecture) == ("python3.11", "x86_64")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"lambda_runtime": "python3.10"}, 'lambda_runtime must be one of "python3.11", "python3.12", "python3.13"'),
        ({"lambda_runtime": 3.13}, "lambda_runtime must be one of .* got 3.13"),
        ({"lambda_architecture": "aarch64"}, 'lambda_architecture must be one of "x86_64", "arm64" .* got \'aarch64\''),
    ],
)
def test_cdk_json_refuses_another_runtime_or_architecture_naming_the_key(overrides, message):
    with pytest.raises(ConfigError, match=f"environment 'dev': {message}"):
        load_environment(cdk_context("dev", **overrides), "dev")
