"""``PromoteModelStack``: composes the constructs of one environment and wires their grants."""

from __future__ import annotations

from aws_cdk import CfnOutput, Environment, Stack
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.alerts import AlertTopic
from infra.constructs.credentials import MlflowCredentials
from infra.constructs.function import PromoteModelFunction
from infra.constructs.operations import FunctionErrorAlarm
from infra.constructs.workflow import PromoteModelWorkflow
from infra.nag import acknowledge_stack_findings


class PromoteModelStack(Stack):
    def __init__(self, scope: Construct, *, config: EnvironmentConfig) -> None:
        super().__init__(
            scope,
            config.stack_name,
            stack_name=config.stack_name,
            description=f"promote-model: promotes MLflow model versions to Production ({config.name})",
            env=Environment(account=config.account, region=config.region),
        )
        self.alerts = AlertTopic(self, "Alerts", environment=config.name, emails=config.alert_emails)
        self.credentials = MlflowCredentials(
            self, "MlflowCredentials", environment=config.name, existing_secret_arn=config.credentials_secret_arn
        )
        self.promote_model = PromoteModelFunction(
            self,
            "PromoteModel",
            config=config,
            credentials_secret_arn=self.credentials.secret.secret_arn,
            alert_topic_arn=self.alerts.topic.topic_arn,
        )
        function = self.promote_model.function
        self.alerts.topic.grant_publish(function)
        self.credentials.secret.grant_read(function)

        self.workflow = PromoteModelWorkflow(self, "Workflow", function=function, topic=self.alerts.topic)
        self.error_alarm = FunctionErrorAlarm(
            self, "Errors", function=function, topic=self.alerts.topic, config=config.alarm
        )
        acknowledge_stack_findings(self)

        CfnOutput(self, "FunctionArn", value=function.function_arn)
        CfnOutput(self, "AlertTopicArn", value=self.alerts.topic.topic_arn)
        CfnOutput(self, "CredentialsSecretArn", value=self.credentials.secret.secret_arn)
        CfnOutput(self, "StateMachineArn", value=self.workflow.state_machine.state_machine_arn)
