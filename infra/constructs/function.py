"""The promote-model function: its dependency layer, its code, its log group and its settings."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.bundling import dependencies_layer_code, handler_code
from infra.config import EnvironmentConfig, VpcConfig
from infra.constants import (
    FUNCTION_MEMORY_MB,
    FUNCTION_TIMEOUT_SECONDS,
    HANDLER,
    METRICS_NAMESPACE,
    SERVICE_NAME,
)


class PromoteModelFunction(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: EnvironmentConfig,
        credentials_secret_arn: str,
        alert_topic_arn: str,
    ) -> None:
        super().__init__(scope, id)
        self.layer = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=dependencies_layer_code(),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_11],
            compatible_architectures=[lambda_.Architecture.X86_64],
            description="promote-model runtime dependencies (requirements/lambda.txt)",
        )
        self.log_group = logs.LogGroup(
            self, "Logs", retention=config.log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        # Our own role, so logging is granted on this log group only (not the managed
        # AWSLambdaBasicExecutionRole, which may write to every log group).
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"promote-model function ({config.name})",
        )
        self.log_group.grant_write(self.role)
        network = self._network(config.vpc)
        self.function = lambda_.Function(
            self,
            "Function",
            description=f"Promotes an MLflow model version to Production ({config.name})",
            runtime=lambda_.Runtime.PYTHON_3_11,
            architecture=lambda_.Architecture.X86_64,
            handler=HANDLER,
            code=handler_code(),
            layers=[self.layer],
            role=self.role,
            timeout=Duration.seconds(FUNCTION_TIMEOUT_SECONDS),
            memory_size=FUNCTION_MEMORY_MB,
            environment=self._environment(config, credentials_secret_arn, alert_topic_arn),
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            tracing=lambda_.Tracing.ACTIVE,
            reserved_concurrent_executions=config.reserved_concurrency,
            vpc=network.vpc if network else None,
            vpc_subnets=network.subnets if network else None,
            security_groups=network.security_groups if network else None,
        )
        self._acknowledge_findings(vpc=config.vpc is not None)

    def _acknowledge_findings(self, *, vpc: bool) -> None:
        reasons = {
            "AwsSolutions-L1": "The specification fixes the runtime at Python 3.11; the bundle and its .pyc files are built for it.",
            "AwsSolutions-IAM5[Resource::*]": (
                "Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which X-Ray "
                "grants only on all resources."
            ),
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]": (
                "Publishing to the KMS-encrypted alert topic needs kms:GenerateDataKey* (both data-key "
                "variants) on that topic's key only; the statement names the key."
            ),
        }
        if vpc:
            reasons[
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]"
            ] = (
                "A function in a VPC needs to create and delete its network interfaces; AWS's managed "
                "policy is the maintained definition of exactly that."
            )
        Validations.of(self).acknowledge(*(Acknowledgment(id=rule, reason=why) for rule, why in reasons.items()))

    @staticmethod
    def _environment(config: EnvironmentConfig, secret_arn: str, topic_arn: str) -> dict[str, str]:
        return {
            "MLFLOW_TRACKING_URI": config.mlflow_tracking_uri,
            "MLFLOW_CREDENTIALS_SECRET_ARN": secret_arn,
            "MLFLOW_ALLOW_INSECURE_HTTP": str(config.allow_insecure_http).lower(),
            "MODEL_REGISTRY_NAME": config.registry_name,
            "ENVIRONMENT": config.name,
            "ALERT_TOPIC_ARN": topic_arn,
            "ALERTS_ENABLED": str(config.alerts_enabled).lower(),
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            # Lambda's active tracing records every invocation either way; the Powertools Tracer
            # (subsegments, annotations) costs ~400 ms per cold start, so it is opt-in.
            "POWERTOOLS_TRACE_DISABLED": str(not config.detailed_tracing).lower(),
        }

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
