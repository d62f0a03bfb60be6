"""The standalone state machine of this app, built from the library's fragment:
PromoteModel → NotifySuccess / NotifyFailure on the alert topic."""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnElement, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from promote_model_cdk import ApprovalGate, PromoteModelFragment

PROMOTION_RESULT_PATH = "$.promotion"


class PromoteModelWorkflow(Construct):
    """A deployable state machine around the fragment, notifying the alert topic of its outcome."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: lambda_.IFunction,
        topic: sns.ITopic,
        encryption_key: kms.IKey,
        subject_prefix: str,
        approval_timeout_seconds: int | None = None,
    ) -> None:
        super().__init__(scope, id)
        notify_failure = tasks.SnsPublish(
            self,
            "NotifyFailure",
            topic=topic,
            subject=f"{subject_prefix} Model promotion failed",
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
            self,
            "Promotion",
            function=function,
            on_not_promoted=nothing_to_promote,
            on_failure=notify_failure,
            result_path=PROMOTION_RESULT_PATH,
            approval=(
                ApprovalGate(topic=topic, timeout=Duration.seconds(approval_timeout_seconds))
                if approval_timeout_seconds
                else None
            ),
        )
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=logs.RetentionDays.ONE_MONTH,
            encryption_key=encryption_key,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(self.fragment.next(notify_success)),
            timeout=Duration.minutes(15),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        )
        topic.grant_publish(self.state_machine)  # the notify states: sns:Publish and the topic's key
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
            Acknowledgment(
                id="AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
                reason=(
                    "Publishing the outcome to the KMS-encrypted alert topic needs kms:GenerateDataKey* on "
                    "that topic's key only; the statement names the key."
                ),
            ),
        )


def _logical_id(function: lambda_.IFunction) -> str:
    resource = function.node.default_child
    assert isinstance(resource, CfnElement)
    return str(Stack.of(function).resolve(Stack.of(function).get_logical_id(resource)))
