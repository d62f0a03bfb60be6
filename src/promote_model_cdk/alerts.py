"""The customer-managed key and the alert topic ``PromoteModel`` creates when it is given none."""

from __future__ import annotations

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct


def create_encryption_key(scope: Construct, id: str, *, environment: str) -> kms.Key:
    """One rotating key for everything a ``PromoteModel`` stores: the alert topic, the credentials
    secret, the log groups and the function's environment (about 1 USD a month)."""
    key = kms.Key(
        scope,
        id,
        description=f"Encrypts promote-model's topic, secret, logs and function settings ({environment})",
        enable_key_rotation=True,
        removal_policy=RemovalPolicy.RETAIN,
    )
    # CloudWatch alarms publish to an encrypted topic only if the key lets them.
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchAlarmsToPublish",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],  # in a key policy, "*" means this key
        )
    )
    allow_log_groups(key)
    return key


def allow_log_groups(key: kms.Key) -> None:
    """CloudWatch Logs encrypts a log group with a key only if the key policy lets it, for the log
    groups of this account and region."""
    stack = Stack.of(key)
    log_groups = stack.format_arn(
        service="logs", resource="log-group", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchLogsOfThisAccount",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],  # in a key policy, "*" means this key
            conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
        )
    )


def create_alert_topic(scope: Construct, id: str, *, environment: str, key: kms.IKey) -> sns.Topic:
    """The KMS-encrypted alert topic, refusing plain-http publishers."""
    return sns.Topic(
        scope,
        id,
        display_name=f"promote-model alerts ({environment})",
        master_key=key,
        enforce_ssl=True,
    )
