"""``PromotionTrigger``: MLflow's registry webhooks start the promotion workflow. A Function URL,
the receiver function behind it (the promotion function's bundle and layer), its log group and its
two grants: start executions of that state machine, read that secret."""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnOutput, Duration, RemovalPolicy, Token, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from promote_model_cdk.bundling import handler_code
from promote_model_cdk.constants import (
    DEFAULT_TRIGGER_ALIAS,
    FUNCTION_MEMORY_MB,
    METRICS_NAMESPACE,
    SERVICE_NAME,
    WEBHOOK_HANDLER,
    WEBHOOK_RESERVED_CONCURRENCY,
    WEBHOOK_TIMEOUT_SECONDS,
)
from promote_model_cdk.dependencies import dependencies_layer
from promote_model_cdk.function import _check_alias
from promote_model_cdk.lambda_platform import LambdaPlatform, lambda_platform


class PromotionTrigger(Construct):
    """Starts ``state_machine`` when MLflow sets ``trigger_alias`` (default ``challenger``) on a model
    version, or sets the ``trigger_tag`` (``"key=value"``, default none) on one: execution input
    ``{"model_name", "challenger_version", "comparison": {"confidence": null}, "trigger": {...}}``,
    one execution per webhook delivery (docs/webhooks.md).

    The Function URL's auth type is NONE on purpose: MLflow cannot sign requests with AWS SigV4, so
    the authentication is the webhook signature, which the function checks before anything else
    (HMAC-SHA256 with the secret in ``webhook_secret``, constant-time, within 5 minutes); an
    unsigned or wrongly signed request is answered 401 and starts nothing.

    ``webhook_secret`` holds the webhook's signing secret as its plain string (the ``secret`` given
    to ``MlflowClient.create_webhook``). ``layer`` and ``platform``: pass ``PromoteModel.layer`` and
    ``PromoteModel.platform`` to share one layer version (default: its own layer, built from the same
    pinned requirements, for python3.11 on x86_64). ``reserved_concurrency``
    (default 2) caps what an attacker's flood can cost; beyond it Lambda answers 429 and MLflow
    retries. ``encryption_key`` (default none: AWS-owned keys) encrypts the log group and settings.
    """

    platform: LambdaPlatform
    """The runtime and architecture the receiver and its layer are built for."""
    layer: lambda_.ILayerVersion
    """The receiver's dependency layer: ``layer`` as given, or its own from the same pinned requirements."""
    log_group: logs.LogGroup
    """The receiver's log group (one line per delivery: outcome, reason, delivery id, execution name)."""
    role: iam.Role
    """The receiver's execution role: its logs, tracing, start executions of ``state_machine``, read ``webhook_secret``."""
    function: lambda_.Function
    """The receiver function (handler ``promote_model.webhook.lambda_handler``)."""
    function_url: lambda_.FunctionUrl
    """The receiver's Function URL, auth type NONE: the webhook signature is the authentication."""
    url: str
    """The URL to register as the MLflow webhook's ``url`` (also a stack output of this construct)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        state_machine: sfn.IStateMachine,
        webhook_secret: secretsmanager.ISecret,
        trigger_alias: str | None = DEFAULT_TRIGGER_ALIAS,
        trigger_tag: str | None = None,
        layer: lambda_.ILayerVersion | None = None,
        platform: LambdaPlatform | None = None,
        reserved_concurrency: int = WEBHOOK_RESERVED_CONCURRENCY,
        encryption_key: kms.IKey | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
    ) -> None:
        super().__init__(scope, id)
        _check_alias("trigger_alias", trigger_alias)
        _check_tag(trigger_tag)
        if not trigger_alias and not trigger_tag:
            raise ValueError("give trigger_alias or trigger_tag: with neither, no event would start a promotion")
        if reserved_concurrency < 1:
            raise ValueError(f"reserved_concurrency must be at least 1, got {reserved_concurrency}")

        self.platform = platform or lambda_platform()
        self.layer = layer or dependencies_layer(self, "Dependencies", self.platform)
        code, _ = handler_code(self.platform)
        self.log_group = logs.LogGroup(
            self, "Logs", retention=log_retention, encryption_key=encryption_key, removal_policy=RemovalPolicy.DESTROY
        )
        self.role = self._role()
        self.function = lambda_.Function(
            self,
            "Function",
            description="Starts a model promotion when MLflow's webhook reports the trigger alias or tag",
            runtime=self.platform.runtime,
            architecture=self.platform.architecture,
            handler=WEBHOOK_HANDLER,
            code=code,
            layers=[self.layer],
            role=self.role,
            timeout=Duration.seconds(WEBHOOK_TIMEOUT_SECONDS),
            memory_size=FUNCTION_MEMORY_MB,
            environment={
                "STATE_MACHINE_ARN": state_machine.state_machine_arn,
                "WEBHOOK_SECRET_ARN": webhook_secret.secret_arn,
                "TRIGGER_ALIAS": trigger_alias or "",  # empty: alias events start nothing
                "TRIGGER_TAG": trigger_tag or "",
                "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_TRACE_DISABLED": "true",
            },
            environment_encryption=encryption_key,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            tracing=lambda_.Tracing.ACTIVE,
            reserved_concurrent_executions=reserved_concurrency,
        )
        if encryption_key is not None:
            encryption_key.grant_decrypt(self.role)
        state_machine.grant_start_execution(self.role)
        webhook_secret.grant_read(self.role)
        # NONE: the webhook signature is the authentication (see the class docstring).
        self.function_url = self.function.add_function_url(auth_type=lambda_.FunctionUrlAuthType.NONE)
        self.url = self.function_url.url
        CfnOutput(self, "Url", value=self.url, description="Register this URL as the MLflow webhook's url")
        self._acknowledge_findings()
        self._explain_checkov_skips(encrypted=encryption_key is not None)

    def _role(self) -> iam.Role:
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="promote-model webhook receiver",
        )
        self.log_group.grant_write(role)
        return role

    def _acknowledge_findings(self) -> None:
        reasons = {
            "AwsSolutions-L1": "The specification fixes the runtime at Python 3.11; the bundle and its .pyc files are built for it.",
            "AwsSolutions-IAM5[Resource::*]": (
                "Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which X-Ray "
                "grants only on all resources."
            ),
        }
        Validations.of(self).acknowledge(*(Acknowledgment(id=rule, reason=why) for rule, why in reasons.items()))

    def _explain_checkov_skips(self, *, encrypted: bool) -> None:
        function_skips = [
            {
                "id": "CKV_AWS_116",
                "comment": "Invoked synchronously through its URL: the caller sees every failure, and MLflow retries the delivery.",
            },
            {
                "id": "CKV_AWS_117",
                "comment": "It reaches only the Secrets Manager and Step Functions APIs over TLS, and MLflow must reach its URL.",
            },
        ]
        if not encrypted:
            function_skips.append(
                {
                    "id": "CKV_AWS_173",
                    "comment": "Its settings are ARNs and trigger names, no secret; pass encryption_key= to encrypt them.",
                }
            )
        _skip(self.function, function_skips)
        if not encrypted:
            _skip(
                self.log_group,
                [
                    {
                        "id": "CKV_AWS_158",
                        "comment": (
                            "Its lines hold delivery ids, model names and outcomes, never the secret or a body; "
                            "CloudWatch Logs encrypts them at rest. Pass encryption_key= to use your own key."
                        ),
                    }
                ],
            )
        _skip(
            self.function_url,
            [
                {
                    "id": "CKV_AWS_258",
                    "comment": "MLflow cannot sign with SigV4: the webhook's HMAC signature is the authentication.",
                }
            ],
        )


def _check_tag(tag: str | None) -> None:
    if tag is None or Token.is_unresolved(tag):
        return
    key, separator, _ = tag.partition("=")
    if not separator or not key.strip():
        raise ValueError(f"trigger_tag must be 'key=value', got {tag!r}")


def _skip(construct: Construct, skips: list[dict[str, str]]) -> None:
    resource = construct.node.default_child
    assert resource is not None
    resource.add_metadata("checkov", {"skip": skips})  # type: ignore[attr-defined]
