"""A warning at synth for a ``Map`` state that runs more promotions at once than the function's
reserved concurrency admits: the extra iterations are throttled (``Lambda.TooManyRequestsException``)
and, once the fragment's retries run out, fail."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import jsii
from aws_cdk import Annotations, CfnElement, IAspect, Stack
from aws_cdk import aws_stepfunctions as sfn
from constructs import IConstruct

if TYPE_CHECKING:
    from promote_model_cdk.function import PromoteModel

MAP_CONCURRENCY_WARNING = "promote-model:mapConcurrency"


@jsii.implements(IAspect)
class MapConcurrencyCheck:
    """Visits every ``Map`` of the stack and warns on one that invokes ``promote_model``'s function
    with a ``max_concurrency`` (0: unlimited) above its ``reserved_concurrency``."""

    def __init__(self, promote_model: PromoteModel) -> None:
        self._promote_model = promote_model

    def visit(self, node: IConstruct) -> None:
        """Warn on ``node`` when it is such a Map (called by the CDK for every construct at synth)."""
        reserved = self._promote_model.reserved_concurrency
        if reserved is None or not isinstance(node, sfn.MapBase):
            return
        stack = Stack.of(node)
        try:
            state = stack.resolve(node.to_state_json())
        except (RuntimeError, jsii.errors.JSIIError):  # a Map without an iteration: the CDK reports that
            return
        function = self._promote_model.function.node.default_child
        assert isinstance(function, CfnElement)
        invokes = json.dumps({"Fn::GetAtt": [stack.resolve(stack.get_logical_id(function)), "Arn"]})
        if invokes not in json.dumps(state.get("ItemProcessor", state.get("Iterator", {}))):
            return
        concurrency = state.get("MaxConcurrency", 0)
        if concurrency == 0 or concurrency > reserved:
            shown = "unlimited (0)" if concurrency == 0 else str(concurrency)
            Annotations.of(node).add_warning_v2(
                MAP_CONCURRENCY_WARNING,
                f"this Map runs up to {shown} iterations at once, but {self._promote_model.node.path} has "
                f"reserved_concurrency={reserved}: the others are throttled and fail once retries run out; "
                f"set max_concurrency={reserved} or raise reserved_concurrency",
            )
