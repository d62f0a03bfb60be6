"""Operations: the alarm on the function's errors, notifying the alert topic."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.config import AlarmConfig


class FunctionErrorAlarm(Construct):
    def __init__(
        self, scope: Construct, id: str, *, function: lambda_.IFunction, topic: sns.ITopic, config: AlarmConfig
    ) -> None:
        super().__init__(scope, id)
        self.alarm = function.metric_errors(period=Duration.minutes(config.period_minutes)).create_alarm(
            self,
            "Alarm",
            alarm_description="promote-model raised errors (registry unavailable, auth or configuration)",
            threshold=config.errors_threshold,
            evaluation_periods=config.evaluation_periods,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.alarm.add_alarm_action(actions.SnsAction(topic))
