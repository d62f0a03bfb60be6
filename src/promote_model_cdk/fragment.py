"""``PromoteModelFragment``: the ``PromoteModel`` task with its retries, catches and a Choice on the
result, to compose into a retraining workflow."""

from __future__ import annotations

from typing import TypeVar

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from promote_model_cdk.constants import LAMBDA_SERVICE_ERRORS, RETRYABLE_ERRORS, TERMINAL_ERRORS

DEFAULT_MODEL_NAME_PATH = "$.model_name"
DEFAULT_NEW_VERSION_PATH = "$.challenger_version"
DEFAULT_CONFIDENCE_PATH = "$.comparison.confidence"
DEFAULT_RESULT_PATH = "$.promotion"
ERROR_RESULT_PATH = "$.error"

_T = TypeVar("_T")


class PromoteModelFragment(sfn.StateMachineFragment):
    """``<prefix>PromoteModel`` → ``<prefix>WasModelPromoted`` → ``<prefix>ModelPromoted``.

    Inputs are JsonPath values as CDK's own tasks take them, or literals:
    ``model_name`` (default ``sfn.JsonPath.string_at("$.model_name")``), ``new_version``
    (default ``sfn.JsonPath.string_at("$.challenger_version")``; a version, or null for the latest
    Staging one), ``confidence`` (default ``sfn.JsonPath.number_at("$.comparison.confidence")``) and
    ``execution_id`` (default ``sfn.JsonPath.execution_id``, for the audit trail).

    The workflow's state is kept and the function's result lands under ``result_path`` (default
    ``$.promotion``). A promotion continues with ``.next(...)``; a ``promoted: false`` result goes to
    ``on_not_promoted``; an error (under ``$.error``) to ``on_failure``. ``RegistryUnavailableError``
    is retried (5 s, x2, 3 attempts), Lambda service errors too (2 s, x2, 6 attempts).
    ``state_prefix`` (default none) is put before every state name, so that several fragments fit in
    one state machine.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: lambda_.IFunction,
        on_not_promoted: sfn.IChainable,
        on_failure: sfn.IChainable,
        model_name: str | None = None,
        new_version: str | None = None,
        confidence: float | None = None,
        execution_id: str | None = None,
        result_path: str = DEFAULT_RESULT_PATH,
        state_prefix: str = "",
    ) -> None:
        super().__init__(scope, id)
        if not result_path.startswith("$"):
            raise ValueError(f"result_path must be a JsonPath such as '$.promotion', got {result_path!r}")
        self.task = tasks.LambdaInvoke(
            self,
            "PromoteModel",
            state_name=f"{state_prefix}PromoteModel",
            lambda_function=function,
            payload_response_only=True,
            retry_on_service_exceptions=False,  # the retries below say exactly which, and how
            payload=sfn.TaskInput.from_object(
                {
                    "model_name": _or(model_name, sfn.JsonPath.string_at(DEFAULT_MODEL_NAME_PATH)),
                    "new_version": _or(new_version, sfn.JsonPath.string_at(DEFAULT_NEW_VERSION_PATH)),
                    "confidence": _or(confidence, sfn.JsonPath.number_at(DEFAULT_CONFIDENCE_PATH)),
                    "execution_id": _or(execution_id, sfn.JsonPath.execution_id),
                }
            ),
            result_path=result_path,
        )
        self.task.add_retry(
            errors=RETRYABLE_ERRORS,
            interval=Duration.seconds(5),
            max_attempts=3,
            backoff_rate=2,
            jitter_strategy=sfn.JitterType.FULL,
        )
        self.task.add_retry(
            errors=LAMBDA_SERVICE_ERRORS,
            interval=Duration.seconds(2),
            max_attempts=6,
            backoff_rate=2,
            jitter_strategy=sfn.JitterType.FULL,
        )
        self.task.add_catch(on_failure, errors=TERMINAL_ERRORS, result_path=ERROR_RESULT_PATH)
        self.task.add_catch(on_failure, errors=[sfn.Errors.ALL], result_path=ERROR_RESULT_PATH)

        self.promoted = sfn.Pass(self, "ModelPromoted", state_name=f"{state_prefix}ModelPromoted")
        promoted_flag = "$.promoted" if result_path == "$" else f"{result_path}.promoted"
        self.check = (
            sfn.Choice(self, "WasModelPromoted", state_name=f"{state_prefix}WasModelPromoted")
            .when(sfn.Condition.boolean_equals(promoted_flag, True), self.promoted)
            .otherwise(on_not_promoted)
        )
        self.task.next(self.check)

    @property
    def start_state(self) -> sfn.State:
        return self.task

    @property
    def end_states(self) -> list[sfn.INextable]:
        return [self.promoted]


def _or(value: _T | None, default: _T) -> _T:
    return default if value is None else value
