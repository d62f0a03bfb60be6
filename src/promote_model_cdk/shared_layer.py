"""One dependency layer per stack, runtime and architecture, shared by every ``PromoteModel`` in it:
the layer holds only the pinned third-party packages, so two functions never need two copies."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from promote_model_cdk.bundling import dependencies_layer_code


def layer_id(runtime: lambda_.Runtime, architecture: lambda_.Architecture) -> str:
    """The layer's construct id in its stack, e.g. ``PromoteModelDependencies-python3.11-x86_64``."""
    return f"PromoteModelDependencies-{runtime.name}-{architecture.name}"


def shared_dependencies_layer(
    scope: Construct, *, runtime: lambda_.Runtime, architecture: lambda_.Architecture
) -> lambda_.LayerVersion:
    """The stack's layer for ``runtime`` and ``architecture``, created by the first function that asks."""
    stack = Stack.of(scope)
    id = layer_id(runtime, architecture)
    existing = stack.node.try_find_child(id)
    if isinstance(existing, lambda_.LayerVersion):
        return existing
    return lambda_.LayerVersion(
        stack,
        id,
        code=dependencies_layer_code(),
        compatible_runtimes=[runtime],
        compatible_architectures=[architecture],
        description=(
            f"promote-model runtime dependencies for {runtime.name} on {architecture.name}, shared by this "
            "stack's functions (promote_model_cdk/layer/requirements.txt)"
        ),
    )
