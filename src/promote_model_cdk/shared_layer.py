"""One dependency layer per stack, runtime and architecture, shared by every ``PromoteModel`` in it:
the layer holds only the pinned third-party packages, so two functions never need two copies."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from promote_model_cdk.dependencies import dependencies_layer
from promote_model_cdk.lambda_platform import LambdaPlatform


def layer_id(platform: LambdaPlatform) -> str:
    """The layer's construct id in its stack, e.g. ``PromoteModelDependencies-python3.11-x86_64``."""
    return f"PromoteModelDependencies-{platform.runtime.name}-{platform.architecture.name}"


def shared_dependencies_layer(scope: Construct, platform: LambdaPlatform) -> lambda_.LayerVersion:
    """The stack's layer for ``platform``, created at the stack's root by the first function that asks."""
    stack = Stack.of(scope)
    existing = stack.node.try_find_child(layer_id(platform))
    if isinstance(existing, lambda_.LayerVersion):
        return existing
    return dependencies_layer(stack, layer_id(platform), platform)
