"""The function's dependency layer for one runtime and architecture: the pinned packages of
``promote_model_cdk/layer/requirements.txt``, built for that ABI and machine without Docker."""

from __future__ import annotations

from aws_cdk import Annotations
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from promote_model_cdk.bundling import dependencies_layer_code
from promote_model_cdk.lambda_platform import LambdaPlatform


def dependencies_layer(scope: Construct, id: str, platform: LambdaPlatform) -> lambda_.LayerVersion:
    """A ``LayerVersion`` under ``scope`` holding the runtime packages for ``platform`` only (its
    compatible runtime and architecture say so, and Lambda refuses it to any other function)."""
    code, bundling = dependencies_layer_code(platform)
    layer = lambda_.LayerVersion(
        scope,
        id,
        code=code,
        compatible_runtimes=[platform.runtime],
        compatible_architectures=[platform.architecture],
        description=(
            f"promote-model runtime dependencies for {platform.runtime.name} on {platform.architecture.name} "
            "(promote_model_cdk/layer/requirements.txt)"
        ),
    )
    if bundling.compiled is False:  # bundled just now, without a matching interpreter
        Annotations.of(layer).add_info(no_pyc_message(platform))
    return layer


def no_pyc_message(platform: LambdaPlatform) -> str:
    return (
        f"promote-model: no python{platform.python_version} was found to byte-compile the bundle for "
        f"{platform.runtime.name}; it works, and each cold start compiles the modules it imports in memory. "
        f"Put python{platform.python_version} on PATH when synthesizing to ship .pyc files."
    )
