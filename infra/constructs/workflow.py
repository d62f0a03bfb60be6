"""The Step Functions side: the ``PromoteModelFragment`` to compose into a retraining workflow, and a
standalone state machine built from it (PromoteModel → NotifySuccess / NotifyFailure)."""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnElement, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.constants import LAMBDA_SERVICE_ERRORS, RETRYABLE_ERRORS, TERMINAL_ERRORS

PROMOTION_RESULT_PATH = "$.promotion"
ERROR_RESULT_PATH = "$.error"


class PromoteModelFragment(sfn.StateMachineFragment):
    """``PromoteModel`` with its retries, catches and a Choice on the result.

    The workflow's input needs ``model_name``, ``challenger_version`` (a version, or null for the
    latest Staging one) and ``comparison.confidence``; its state is kept and the function's result
    lands under ``$.promotion``. A promotion continues with ``.next(...)``; a ``promoted: false`` result
    goes to ``on_not_promoted``, an error (under ``$.error``) to ``on_failure``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: lambda_.IFunction,
        on_not_promoted: sfn.IChainable,
        on_failure: sfn.IChainable,
    ) -> None:
        super().__init__(scope, id)
        self.task = tasks.LambdaInvoke(
            self,
            "PromoteModel",
            lambda_function=function,
            payload_response_only=True,
            retry_on_service_exceptions=False,  # the retries below say exactly which, and how
            payload=sfn.TaskInput.from_object(
                {
                    "model_name": sfn.JsonPath.string_at("$.model_name"),
                    "new_version": sfn.JsonPath.string_at("$.challenger_version"),
                    "confidence": sfn.JsonPath.number_at("$.comparison.confidence"),
                    "execution_id": sfn.JsonPath.execution_id,
                }
            ),
            result_path=PROMOTION_RESULT_PATH,
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

        self.promoted = sfn.Pass(self, "ModelPromoted")
        self.check = (
            sfn.Choice(self, "WasModelPromoted")
            .when(sfn.Condition.boolean_equals(f"{PROMOTION_RESULT_PATH}.promoted", True), self.promoted)
            .otherwise(on_not_promoted)
        )
        self.task.next(self.check)

    @property
    def start_state(self) -> sfn.State:
        return self.task

    @property
    def end_states(self) -> list[sfn.INextable]:
        return [self.promoted]


class PromoteModelWorkflow(Construct):
    """A deployable state machine around the fragment, notifying the alert topic of its outcome."""

    def __init__(self, scope: Construct, id: str, *, function: lambda_.IFunction, topic: sns.ITopic) -> None:
        super().__init__(scope, id)
        notify_failure = tasks.SnsPublish(
            self,
            "NotifyFailure",
            topic=topic,
            subject="[TradAI] Model promotion failed",
            message=sfn.TaskInput.from_json_path_at("$"),
            message_attributes={"event": tasks.MessageAttribute(value="promotion_failed")},
            result_path=sfn.JsonPath.DISCARD,
        ).next(sfn.Fail(self, "PromotionFailed", error="PromotionFailed", cause="see the NotifyFailure message"))
        nothing_to_promote = sfn.Succeed(self, "NothingToPromote")
        notify_success = tasks.SnsPublish(
            self,
            "NotifySuccess",
            topic=topic,
            message=sfn.TaskInput.from_json_path_at(PROMOTION_RESULT_PATH),
            message_attributes={"event": tasks.MessageAttribute(value="workflow_succeeded")},
            result_path=sfn.JsonPath.DISCARD,
        )
        self.fragment = PromoteModelFragment(
            self, "Promotion", function=function, on_not_promoted=nothing_to_promote, on_failure=notify_failure
        )
        self.log_group = logs.LogGroup(
            self, "Logs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(self.fragment.next(notify_success)),
            timeout=Duration.minutes(15),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        )
        function_id = _logical_id(function)
        Validations.of(self.state_machine).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason=(
                    "X-Ray tracing and CloudWatch Logs delivery (logs:CreateLogDelivery and friends) are "
                    "granted by AWS only on all resources."
                ),
            ),
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::<{function_id}.Arn>:*]",
                reason="Lets the task invoke the published versions and aliases of this one function.",
            ),
        )


def _logical_id(function: lambda_.IFunction) -> str:
    resource = function.node.default_child
    assert isinstance(resource, CfnElement)
    return str(Stack.of(function).resolve(Stack.of(function).get_logical_id(resource)))
