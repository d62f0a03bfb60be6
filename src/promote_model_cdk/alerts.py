"""The customer-managed key and the alert topic ``PromoteModel`` creates when it is given none, and
the key-policy statements a key given instead needs."""

from __future__ import annotations

import json

from aws_cdk import Annotations, ArnFormat, RemovalPolicy, Stack
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
    key.add_to_resource_policy(alarms_statement())
    allow_log_groups(key)
    return key


def alarms_statement() -> iam.PolicyStatement:
    """CloudWatch alarms publish to an encrypted topic only if the topic's key lets them."""
    return iam.PolicyStatement(
        sid="AllowCloudWatchAlarmsToPublish",
        principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions=["kms:Decrypt", "kms:GenerateDataKey*"],
        resources=["*"],  # in a key policy, "*" means this key
    )


def log_groups_statement(scope: Construct) -> iam.PolicyStatement:
    """CloudWatch Logs encrypts a log group with a key only if the key policy lets it, for the log
    groups of this account and region."""
    stack = Stack.of(scope)
    log_groups = stack.format_arn(
        service="logs", resource="log-group", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
    )
    return iam.PolicyStatement(
        sid="AllowCloudWatchLogsOfThisAccount",
        principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
        actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        resources=["*"],  # in a key policy, "*" means this key
        conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
    )


def allow_log_groups(key: kms.Key) -> None:
    """Let CloudWatch Logs use ``key`` for this account's log groups."""
    key.add_to_resource_policy(log_groups_statement(key))


IMPORTED_KEY_WARNING = "promote-model:importedKeyPolicy"


def complete_key_policy(
    scope: Construct, key: kms.IKey, *, statements: list[iam.PolicyStatement], used_for: str
) -> None:
    """Add ``statements`` to the policy of a key given to ``PromoteModel``. A key defined in this app
    gets them; an imported key's policy cannot be changed from here, so a warning (acknowledge it
    with ``Annotations.of(scope).acknowledge_warning("promote-model:importedKeyPolicy")`` once the
    key holds them) names each statement it must hold."""
    missing = [statement for statement in statements if not key.add_to_resource_policy(statement).statement_added]
    if missing:
        wanted = json.dumps([Stack.of(scope).resolve(statement.to_statement_json()) for statement in missing])
        Annotations.of(scope).add_warning_v2(
            IMPORTED_KEY_WARNING,
            f"the imported key {key.key_arn} ({used_for}) cannot be given these key-policy statements from this "
            f"app; add them to its key policy yourself: {wanted}",
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
