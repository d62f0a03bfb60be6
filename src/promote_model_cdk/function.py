"""``PromoteModel``: the function with its layer, log group, alarm, concurrency, key, topic, secret,
and its own grants (publish on the alert topic and the event bus, read on its secret, nothing else)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import Acknowledgment, Annotations, Aspects, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from promote_model_cdk.alerts import (
    alarms_statement,
    complete_key_policy,
    create_alert_topic,
    create_encryption_key,
    log_groups_statement,
)
from promote_model_cdk.auth import MlflowAuth
from promote_model_cdk.bundling import handler_code
from promote_model_cdk.constants import (
    DEFAULT_PROMOTION_ALIAS,
    DEFAULT_REGISTRY_NAME,
    DEFAULT_SUBJECT_PREFIX,
    FUNCTION_MEMORY_MB,
    FUNCTION_TIMEOUT_SECONDS,
    HANDLER,
    METRICS_NAMESPACE,
    SERVICE_NAME,
)
from promote_model_cdk.dependencies import no_pyc_message
from promote_model_cdk.fragment import DEFAULT_RESULT_PATH, ApprovalGate, PromoteModelFragment
from promote_model_cdk.lambda_platform import LambdaPlatform, lambda_platform
from promote_model_cdk.map_concurrency import MapConcurrencyCheck
from promote_model_cdk.shared_layer import shared_dependencies_layer
from promote_model_cdk.signals import PromotionSignals
from promote_model_cdk.validation import check_environment, check_tracking_uri, is_token, plain_http_problem

# MLflow's alias rule, as the function enforces it: letters, digits, '_' and '-'; "latest" and
# "v<number>" are reserved. Checked here too, so a bad alias fails synthesis, not a promotion.
_ALIAS = re.compile(r"[A-Za-z0-9_-]{1,255}")
_RESERVED_ALIAS = re.compile(r"latest|v\d+", re.IGNORECASE)


INSECURE_HTTP_WARNING = "promote-model:plainHttp"


class PromoteModel(PromotionSignals):
    """The promote-model Lambda (60 s, 256 MB) and everything it needs to run.

    Required: ``auth`` (an ``MlflowAuth``), ``environment`` (a name shown in notifications) and
    ``tracking_uri`` (the MLflow server's ``https://`` URL; not needed with ``MlflowAuth.sagemaker``,
    whose ARN is the tracking URI). Both may be tokens (a ``CfnParameter``'s or an SSM parameter's
    value): a token passes through, a concrete value is checked at synth.

    Defaults: ``runtime`` python3.11 on ``architecture`` x86_64 (the specification's; also
    ``aws_lambda.Runtime.PYTHON_3_12`` or ``PYTHON_3_13``, on ``aws_lambda.Architecture.ARM_64``,
    see docs/platform.md; the layer and the .pyc files are built for the choice); a new KMS-encrypted alert topic (``alert_topic=None``) and one new rotating KMS key
    (``encryption_key=None``) for the topic, the created secret, the log group and the function's
    settings; registry ``tradai-models``; alerts on; the "Model Promotion" EventBridge event on the
    account's default bus (``event_bus=`` another, ``events_enabled=False`` none); alias
    ``champion`` (``None`` turns it off); no challenger alias; audit tags on; https only; no VPC;
    reserved concurrency 1 (promotions serialize; ``None`` removes it); logs kept one month;
    Lambda's active tracing without the Powertools Tracer; subject prefix ``[TradAI]``; an alarm on
    any error within 5 minutes, notifying the alert topic.

    A key given as ``encryption_key`` gets the key-policy statements CloudWatch Logs and alarms
    need; so does a given topic's own key. An imported key cannot: a warning names the statements.
    The dependency layer is the stack's one (per runtime and architecture), shared by every
    ``PromoteModel`` in it.

    Attributes: ``function``, ``alert_topic``, ``credentials_secret`` (``None`` for SageMaker and
    no-auth), ``event_bus`` (``None`` with events off), ``encryption_key``, ``log_group``,
    ``layer``, ``role``, ``error_alarm``, ``reserved_concurrency``.
    Methods: ``fragment``, ``on_promoted``, ``on_outcome``, ``metric_promotions``,
    ``metric_not_promoted``, ``metric_errors``, ``metric_duration``.
    """

    auth: MlflowAuth
    """How the function authenticates to MLflow, as given."""
    environment_name: str
    """The environment's name, as given (``environment``): shown in notifications and tags."""
    encryption_key: kms.IKey
    """The KMS key of the topic it created, the created secret, the log group and the function's settings."""
    alert_topic: sns.ITopic
    """The topic of the promotion notifications and the error alarm (created, or ``alert_topic``)."""
    credentials_secret: secretsmanager.ISecret | None
    """The secret the function reads its MLflow credentials from; ``None`` for SageMaker and no auth."""
    event_bus: events.IEventBus | None
    """The bus of the "Model Promotion" event; ``None`` with ``events_enabled=False``."""
    layer: lambda_.LayerVersion
    """The function's dependency layer (Powertools and its pinned runtime packages; no mlflow)."""
    log_group: logs.LogGroup
    """The function's log group, encrypted with ``encryption_key``."""
    role: iam.Role
    """The function's execution role, with exactly the grants it needs."""
    function: lambda_.Function
    """The Lambda function itself (its ARN is what a workflow invokes)."""
    error_alarm: cloudwatch.Alarm
    """The alarm on the function's errors, notifying ``alert_topic``."""
    reserved_concurrency: int | None
    """The function's reserved concurrency, as given (``None``: unreserved); a ``Map`` above it is warned of."""
    platform: LambdaPlatform
    """The runtime and architecture the function and its layer are built for."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        auth: MlflowAuth,
        environment: str,
        tracking_uri: str | None = None,
        alert_topic: sns.ITopic | None = None,
        encryption_key: kms.IKey | None = None,
        registry_name: str = DEFAULT_REGISTRY_NAME,
        alerts_enabled: bool = True,
        events_enabled: bool = True,
        event_bus: events.IEventBus | None = None,
        promotion_alias: str | None = DEFAULT_PROMOTION_ALIAS,
        challenger_alias: str | None = None,
        audit_tags: bool = True,
        allow_insecure_http: bool = False,
        subject_prefix: str = DEFAULT_SUBJECT_PREFIX,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        reserved_concurrency: int | None = 1,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        detailed_tracing: bool = False,
        error_alarm_threshold: int = 1,
        error_alarm_period: Duration | None = None,
        error_alarm_evaluation_periods: int = 1,
        runtime: lambda_.Runtime | None = None,
        architecture: lambda_.Architecture | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.platform = lambda_platform(runtime, architecture)
        self.auth = auth
        self.environment_name = check_environment(environment)
        self._tracking_uri = _tracking_uri(auth, tracking_uri)
        self.reserved_concurrency = reserved_concurrency
        self._warn_of_plain_http(allow_insecure_http)
        _check_alias("promotion_alias", promotion_alias)
        _check_alias("challenger_alias", challenger_alias)

        self.encryption_key = encryption_key or create_encryption_key(self, "Key", environment=environment)
        if encryption_key is not None:
            complete_key_policy(
                self,
                encryption_key,
                statements=[log_groups_statement(self), alarms_statement()],
                used_for="encryption_key: the log group and, with no alert_topic given, the topic",
            )
        self.alert_topic = alert_topic or create_alert_topic(
            self, "Alerts", environment=environment, key=self.encryption_key
        )
        if alert_topic is not None and alert_topic.master_key is not None:
            # The error alarm publishes to the topic: its key must let CloudWatch use it.
            complete_key_policy(
                self, alert_topic.master_key, statements=[alarms_statement()], used_for="the alert topic's key"
            )
        self.credentials_secret = auth._credentials_secret(
            self, environment=environment, encryption_key=self.encryption_key
        )
        self.event_bus = (
            (event_bus or events.EventBus.from_event_bus_name(self, "DefaultEventBus", "default"))
            if events_enabled
            else None
        )
        self.layer = shared_dependencies_layer(self, self.platform)
        self.log_group = self._log_group(log_retention)
        self.role = self._role(environment)
        settings = {
            **self._mlflow_settings(allow_insecure_http),
            "MODEL_REGISTRY_NAME": registry_name,
            "ENVIRONMENT": environment,
            "ALERT_TOPIC_ARN": self.alert_topic.topic_arn,
            "ALERTS_ENABLED": _flag(alerts_enabled),
            # the "Model Promotion" event of every outcome; empty: none
            "EVENT_BUS_NAME": self.event_bus.event_bus_name if self.event_bus else "",
            "PROMOTION_ALIAS": promotion_alias or "",  # empty: no alias is kept
            **({"CHALLENGER_ALIAS": challenger_alias} if challenger_alias else {}),
            "AUDIT_TAGS_ENABLED": _flag(audit_tags),
            "NOTIFICATION_SUBJECT_PREFIX": subject_prefix,
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            # Lambda's active tracing records every invocation either way; the Powertools Tracer
            # (subsegments, annotations) costs ~400 ms per cold start, so it is opt-in.
            "POWERTOOLS_TRACE_DISABLED": _flag(not detailed_tracing),
        }
        code, code_bundling = handler_code(self.platform)
        self.function = lambda_.Function(
            self,
            "Function",
            description=f"Promotes an MLflow model version to Production ({environment})",
            runtime=self.platform.runtime,
            architecture=self.platform.architecture,
            handler=HANDLER,
            code=code,
            layers=[self.layer],
            role=self.role,
            timeout=Duration.seconds(FUNCTION_TIMEOUT_SECONDS),
            memory_size=FUNCTION_MEMORY_MB,
            environment=settings,
            environment_encryption=self.encryption_key,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            tracing=lambda_.Tracing.ACTIVE,
            reserved_concurrent_executions=reserved_concurrency,
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=list(security_groups) if security_groups is not None else None,
        )
        if code_bundling.compiled is False:
            Annotations.of(self.function).add_info(no_pyc_message(self.platform))
        # Lambda decrypts the settings at each cold start with the role's permission on the key.
        self.encryption_key.grant_decrypt(self.role)
        self.alert_topic.grant_publish(self.role)
        if self.event_bus is not None:
            self.event_bus.grant_put_events_to(self.role)
        auth._grant(self.role, self.credentials_secret)
        self.error_alarm = self._error_alarm(
            threshold=error_alarm_threshold,
            period=error_alarm_period or Duration.minutes(5),
            evaluation_periods=error_alarm_evaluation_periods,
        )
        self._acknowledge_findings(in_vpc=vpc is not None)
        self._explain_checkov_skips(in_vpc=vpc is not None)
        Aspects.of(Stack.of(self)).add(MapConcurrencyCheck(self))

    def fragment(
        self,
        scope: Construct,
        id: str,
        *,
        on_not_promoted: sfn.IChainable,
        on_failure: sfn.IChainable,
        model_name: str | None = None,
        new_version: str | None = None,
        confidence: float | None = None,
        execution_id: str | None = None,
        result_path: str = DEFAULT_RESULT_PATH,
        state_prefix: str = "",
        approval: ApprovalGate | None = None,
    ) -> PromoteModelFragment:
        """A ``PromoteModelFragment`` invoking this function, with the fragment's options and defaults
        (``approval``: hold each promotion for a person, see ``ApprovalGate``)."""
        return PromoteModelFragment(
            scope,
            id,
            function=self.function,
            on_not_promoted=on_not_promoted,
            on_failure=on_failure,
            model_name=model_name,
            new_version=new_version,
            confidence=confidence,
            execution_id=execution_id,
            result_path=result_path,
            state_prefix=state_prefix,
            approval=approval,
        )

    def _mlflow_settings(self, allow_insecure_http: bool) -> dict[str, str]:
        settings = {"MLFLOW_TRACKING_URI": self._tracking_uri}
        if self.credentials_secret is not None:
            settings["MLFLOW_CREDENTIALS_SECRET_ARN"] = self.credentials_secret.secret_arn
        if self.auth.kind != "sagemaker":
            settings["MLFLOW_ALLOW_INSECURE_HTTP"] = _flag(allow_insecure_http)
        return settings

    def _warn_of_plain_http(self, allow_insecure_http: bool) -> None:
        message = plain_http_problem(
            self._tracking_uri, allow_insecure_http=allow_insecure_http, auth_kind=self.auth.kind
        )
        if message is not None:
            Annotations.of(self).add_warning_v2(INSECURE_HTTP_WARNING, message)

    def _log_group(self, retention: logs.RetentionDays) -> logs.LogGroup:
        return logs.LogGroup(
            self,
            "Logs",
            retention=retention,
            encryption_key=self.encryption_key,
            removal_policy=RemovalPolicy.DESTROY,
        )

    def _role(self, environment: str) -> iam.Role:
        # Our own role, so logging is granted on this log group only (not the managed
        # AWSLambdaBasicExecutionRole, which may write to every log group).
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"promote-model function ({environment})",
        )
        self.log_group.grant_write(role)
        return role

    def _error_alarm(self, *, threshold: int, period: Duration, evaluation_periods: int) -> cloudwatch.Alarm:
        alarm = self.function.metric_errors(period=period).create_alarm(
            self,
            "ErrorAlarm",
            alarm_description="promote-model raised errors (registry unavailable, auth or configuration)",
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.alert_topic))
        return alarm

    def _acknowledge_findings(self, *, in_vpc: bool) -> None:
        reasons = {
            "AwsSolutions-L1": (
                "The runtime is a choice among python3.11 (the specification's default), python3.12 and "
                "python3.13, the versions the bundle, its compiled wheels and its .pyc files are built and "
                "tested for; docs/platform.md says which to pick."
            ),
            "AwsSolutions-IAM5[Resource::*]": (
                "Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which X-Ray "
                "grants only on all resources."
            ),
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]": (
                "Publishing to the KMS-encrypted alert topic needs kms:GenerateDataKey* (both data-key "
                "variants) on that topic's key only; the statement names the key."
            ),
        }
        if in_vpc:
            reasons[
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]"
            ] = (
                "A function in a VPC needs to create and delete its network interfaces; AWS's managed "
                "policy is the maintained definition of exactly that."
            )
        Validations.of(self).acknowledge(*(Acknowledgment(id=rule, reason=why) for rule, why in reasons.items()))

    def _explain_checkov_skips(self, *, in_vpc: bool) -> None:
        """Checkov's findings that do not apply, with the reason, in the function's own metadata."""
        skips = [
            {
                "id": "CKV_AWS_116",
                "comment": (
                    "A dead-letter queue receives failed asynchronous invocations; Step Functions and the "
                    "CLI invoke this function synchronously and receive every error themselves."
                ),
            }
        ]
        if not in_vpc:
            skips.append(
                {
                    "id": "CKV_AWS_117",
                    "comment": (
                        "The function needs only the MLflow server, SNS and Secrets Manager over TLS; pass "
                        "vpc= (cdk.json: vpc) when MLflow is reachable only inside a VPC."
                    ),
                }
            )
        resource = self.function.node.default_child
        assert isinstance(resource, lambda_.CfnFunction)
        resource.add_metadata("checkov", {"skip": skips})


def _tracking_uri(auth: MlflowAuth, tracking_uri: str | None) -> str:
    if auth.kind == "sagemaker":
        assert auth.tracking_server_arn is not None
        if tracking_uri not in (None, auth.tracking_server_arn):
            raise ValueError(
                "with MlflowAuth.sagemaker the tracking URI is the tracking server ARN: omit tracking_uri "
                f"(got tracking_uri={tracking_uri!r})"
            )
        return auth.tracking_server_arn
    return check_tracking_uri(tracking_uri)


def _check_alias(name: str, value: str | None) -> None:
    if value and not is_token(value) and (not _ALIAS.fullmatch(value) or _RESERVED_ALIAS.fullmatch(value)):
        raise ValueError(
            f"{name} must be an MLflow alias (letters, digits, '_' or '-', not 'latest' or 'v<number>'), got {value!r}"
        )


def _flag(value: bool) -> str:
    return "true" if value else "false"
