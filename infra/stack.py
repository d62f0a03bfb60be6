"""``PromoteModelStack``: one environment of this repository's app, built on the public API of
``promote_model_cdk`` only (the first consumer of the library)."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import CfnOutput, Duration, Environment, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.config import AuthConfig, EnvironmentConfig, VpcConfig
from infra.workflow import PromoteModelWorkflow
from promote_model_cdk import MlflowAuth, PromoteModel

# What e-mail subscribers receive: the promotion itself, failures, and alarms (which carry no
# attributes), not the standalone workflow's success echo of the same promotion. Subscribers that
# want everything, such as a queue, subscribe without a filter.
EMAIL_EVENTS = ["model_promoted", "promotion_failed"]

# cdk.json's lambda_runtime and lambda_architecture (validated by infra.config) as the CDK's objects.
RUNTIMES = {
    "python3.11": lambda_.Runtime.PYTHON_3_11,
    "python3.12": lambda_.Runtime.PYTHON_3_12,
    "python3.13": lambda_.Runtime.PYTHON_3_13,
}
ARCHITECTURES = {"x86_64": lambda_.Architecture.X86_64, "arm64": lambda_.Architecture.ARM_64}


class PromoteModelStack(Stack):
    def __init__(self, scope: Construct, *, config: EnvironmentConfig) -> None:
        super().__init__(
            scope,
            config.stack_name,
            stack_name=config.stack_name,
            description=f"promote-model: promotes MLflow model versions to Production ({config.name})",
            env=Environment(account=config.account, region=config.region),
        )
        network = self._network(config.vpc)
        self.promote_model = PromoteModel(
            self,
            "PromoteModel",
            tracking_uri=config.mlflow_tracking_uri,
            auth=self._auth(config.auth),
            environment=config.name,
            registry_name=config.registry_name,
            alerts_enabled=config.alerts_enabled,
            events_enabled=config.event_bus is not None,
            event_bus=self._event_bus(config.event_bus),
            promotion_alias=config.promotion_alias,
            challenger_alias=config.challenger_alias,
            promotion_mode=config.promotion_mode,
            target_model_name=config.target_model_name,
            gates=config.gates,
            audit_tags=config.audit_tags,
            allow_insecure_http=config.allow_insecure_http,
            subject_prefix=config.subject_prefix,
            reserved_concurrency=config.reserved_concurrency,
            log_retention=config.log_retention,
            detailed_tracing=config.detailed_tracing,
            error_alarm_threshold=config.alarm.errors_threshold,
            error_alarm_period=Duration.minutes(config.alarm.period_minutes),
            error_alarm_evaluation_periods=config.alarm.evaluation_periods,
            vpc=network.vpc if network else None,
            vpc_subnets=network.subnets if network else None,
            security_groups=network.security_groups if network else None,
            runtime=RUNTIMES[config.lambda_runtime],
            architecture=ARCHITECTURES[config.lambda_architecture],
        )
        topic = self.promote_model.alert_topic
        for email in config.alert_emails:
            topic.add_subscription(
                subscriptions.EmailSubscription(
                    email, filter_policy={"event": sns.SubscriptionFilter([*EMAIL_EVENTS, {"exists": False}])}
                )
            )
        function = self.promote_model.function
        self.workflow = PromoteModelWorkflow(
            self,
            "Workflow",
            function=function,
            topic=topic,
            encryption_key=self.promote_model.encryption_key,
            subject_prefix=config.subject_prefix,
            approval_timeout_seconds=config.approval_timeout_seconds,
        )

        CfnOutput(self, "FunctionArn", value=function.function_arn)
        CfnOutput(self, "AlertTopicArn", value=topic.topic_arn)
        if self.promote_model.credentials_secret is not None:
            CfnOutput(self, "CredentialsSecretArn", value=self.promote_model.credentials_secret.secret_arn)
        CfnOutput(self, "StateMachineArn", value=self.workflow.state_machine.state_machine_arn)

    def _auth(self, auth: AuthConfig) -> MlflowAuth:
        secret = (
            secretsmanager.Secret.from_secret_complete_arn(self, "MlflowSecret", auth.secret_arn)
            if auth.secret_arn is not None
            else None
        )
        if auth.kind == "token":
            assert secret is not None  # the configuration requires it
            return MlflowAuth.token(secret)
        if auth.kind == "sagemaker":
            assert auth.tracking_server_arn is not None  # the configuration requires it
            return MlflowAuth.sagemaker(auth.tracking_server_arn)
        if auth.kind == "none":
            return MlflowAuth.none()
        return MlflowAuth.basic(secret)

    def _event_bus(self, name_or_arn: str | None) -> events.IEventBus | None:
        if name_or_arn is None or name_or_arn == "default":
            return None  # the library's default: the account's default bus
        if name_or_arn.startswith("arn:"):
            return events.EventBus.from_event_bus_arn(self, "EventBus", name_or_arn)
        return events.EventBus.from_event_bus_name(self, "EventBus", name_or_arn)

    def _network(self, vpc: VpcConfig | None) -> _Network | None:
        if vpc is None:
            return None
        return _Network(
            vpc=ec2.Vpc.from_vpc_attributes(
                self, "Vpc", vpc_id=vpc.vpc_id, availability_zones=list(vpc.availability_zones)
            ),
            subnets=ec2.SubnetSelection(
                subnets=[ec2.Subnet.from_subnet_id(self, f"Subnet{i}", s) for i, s in enumerate(vpc.subnet_ids)]
            ),
            security_groups=[
                ec2.SecurityGroup.from_security_group_id(self, f"SecurityGroup{i}", sg)
                for i, sg in enumerate(vpc.security_group_ids)
            ],
        )


@dataclass(frozen=True)
class _Network:
    vpc: ec2.IVpc
    subnets: ec2.SubnetSelection
    security_groups: list[ec2.ISecurityGroup]
