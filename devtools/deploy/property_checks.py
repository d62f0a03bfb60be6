"""The property checks of ``devtools.deploy.checks``, one per resource type: each compares the
properties the template sets (its references resolved) with what the resource's own service answers."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

from devtools.deploy.aws import Aws, Check, Found, layer_version

Checker = Callable[[str, dict[str, Any], Found, Aws], list[Check]]


def _key(logical_id: str, p: dict[str, Any], found: Found, aws: Aws) -> list[Check]:
    kms = aws.client("kms")
    policy = json.loads(kms.get_key_policy(KeyId=found.ref, PolicyName="default")["Policy"])
    rotation = kms.get_key_rotation_status(KeyId=found.ref)["KeyRotationEnabled"]
    return [
        Check(logical_id, "KMS", "Description", p.get("Description"), found.described.get("Description")),
        Check(logical_id, "KMS", "EnableKeyRotation", p.get("EnableKeyRotation", False), rotation),
        Check(logical_id, "KMS", "KeyPolicy", p["KeyPolicy"], policy),
        Check(logical_id, "KMS", "KeyState", "Enabled", found.described["KeyState"]),
    ]


def _topic(logical_id: str, p: dict[str, Any], found: Found, aws: Aws) -> list[Check]:
    attributes = aws.client("sns").get_topic_attributes(TopicArn=found.ref)["Attributes"]
    return [
        Check(logical_id, "SNS", "DisplayName", p.get("DisplayName", ""), attributes.get("DisplayName")),
        Check(logical_id, "SNS", "KmsMasterKeyId", p.get("KmsMasterKeyId"), attributes.get("KmsMasterKeyId")),
    ]


def _topic_policy(logical_id: str, p: dict[str, Any], found: Found, aws: Aws) -> list[Check]:
    sns = aws.client("sns")
    return [
        Check(
            logical_id,
            "SNS",
            "Policy, on its topic",
            p["PolicyDocument"],
            json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"]),
        )
        for topic in p["Topics"]
    ]


def _secret(logical_id: str, p: dict[str, Any], found: Found, aws: Aws) -> list[Check]:
    value = aws.client("secretsmanager").get_secret_value(SecretId=found.ref)["SecretString"]
    checks = [
        Check(logical_id, "SecretsManager", "Description", p.get("Description"), found.described.get("Description"))
    ]
    generate = p.get("GenerateSecretString")
    if generate is not None:
        secret = json.loads(value)
        password = secret.pop(generate["GenerateStringKey"], "")
        checks += [
            Check(
                logical_id,
                "SecretsManager",
                "SecretStringTemplate",
                json.loads(generate["SecretStringTemplate"]),
                secret,
            ),
            Check(logical_id, "SecretsManager", "PasswordLength", generate.get("PasswordLength", 32), len(password)),
        ]
        if generate.get("ExcludePunctuation"):
            checks.append(Check(logical_id, "SecretsManager", "ExcludePunctuation", True, password.isalnum()))
    return checks


def _s3_sha256(location: dict[str, str], aws: Aws) -> str:
    """Lambda's CodeSha256 of an asset in the bootstrap bucket: base64 of the zip's SHA-256."""
    body = aws.client("s3").get_object(Bucket=location["S3Bucket"], Key=location["S3Key"])["Body"].read()
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def _layer(logical_id: str, p: dict[str, Any], found: Found, aws: Aws) -> list[Check]:
    version = aws.client("lambda").get_layer_version(**layer_version(found.ref))
    return [
        Check(logical_id, "Lambda", "Description", p.get("Description", ""), version.get("Description")),
        Check(
            logical_id, "Lambda", "CompatibleRuntimes", p.get("CompatibleRuntimes"), version.get("CompatibleRuntimes")
        ),
        Check(
            logical_id,
            "Lambda",
            "CompatibleArchitectures",
            p.get("CompatibleArchitectures"),
            version.get("CompatibleArchitectures"),
        ),
        Check(
            logical_id,
            "Lambda",
            "Content (SHA-256 of the asset)",
            _s3_sha256(p["Content"], aws),
            version["Content"]["CodeSha256"],
        ),
    ]


def _function(logical_id: str, p: dict[str, Any], found: Found, aws: Aws) -> list[Check]:
    answer = aws.client("lambda").get_function(FunctionName=found.ref)
    c = answer["Configuration"]
    expected_concurrency = p.get("ReservedConcurrentExecutions")
    return [
        Check(logical_id, "Lambda", "Runtime", p["Runtime"], c["Runtime"]),
        Check(logical_id, "Lambda", "Handler", p["Handler"], c["Handler"]),
        Check(logical_id, "Lambda", "MemorySize", p.get("MemorySize", 128), c["MemorySize"]),
        Check(logical_id, "Lambda", "Timeout", p.get("Timeout", 3), c["Timeout"]),
        Check(logical_id, "Lambda", "Description", p.get("Description", ""), c["Description"]),
        Check(logical_id, "Lambda", "Role", p["Role"], c["Role"]),
        Check(logical_id, "Lambda", "Architectures", p.get("Architectures", ["x86_64"]), c["Architectures"]),
        Check(
            logical_id, "Lambda", "TracingConfig", p.get("TracingConfig", {"Mode": "PassThrough"}), c["TracingConfig"]
        ),
        Check(logical_id, "Lambda", "Layers", p.get("Layers", []), [layer["Arn"] for layer in c.get("Layers", [])]),
        Check(logical_id, "Lambda", "LoggingConfig", p.get("LoggingConfig"), c.get("LoggingConfig")),
        Check(
            logical_id,
            "Lambda",
            "Environment",
            p.get("Environment", {}).get("Variables", {}),
            c.get("Environment", {}).get("Variables", {}),
        ),
        Check(
            logical_id,
            "Lambda",
            "ReservedConcurrentExecutions",
            expected_concurrency,
            answer.get("Concurrency", {}).get("ReservedConcurrentExecutions"),
        ),
        Check(logical_id, "Lambda", "Code (SHA-256 of the asset)", _s3_sha256(p["Code"], aws), c["CodeSha256"]),
    ]


def _log_group(logical_id: str, p: dict[str, Any], found: Found, aws: Aws) -> list[Check]:
    return [
        Check(logical_id, "Logs", "RetentionInDays", p.get("RetentionInDays"), found.described.get("retentionInDays"))
    ]


def _role(logical_id: str, p: dict[str, Any], found: Found, aws: Aws) -> list[Check]:
    return [
        Check(
            logical_id,
            "IAM",
            "AssumeRolePolicyDocument",
            p["AssumeRolePolicyDocument"],
            found.described["AssumeRolePolicyDocument"],
        ),
        Check(logical_id, "IAM", "Description", p.get("Description", ""), found.described.get("Description", "")),
        Check(
            logical_id,
            "IAM",
            "ManagedPolicyArns",
            sorted(p.get("ManagedPolicyArns", [])),
            sorted(
                a["PolicyArn"]
                for a in aws.client("iam").list_attached_role_policies(RoleName=found.ref)["AttachedPolicies"]
            ),
        ),
    ]


def _policy(logical_id: str, p: dict[str, Any], found: Found, aws: Aws) -> list[Check]:
    iam = aws.client("iam")
    return [
        Check(
            logical_id,
            "IAM",
            "PolicyDocument, on its role",
            p["PolicyDocument"],
            iam.get_role_policy(RoleName=role, PolicyName=p["PolicyName"])["PolicyDocument"],
        )
        for role in p.get("Roles", [])
    ]


def _state_machine(logical_id: str, p: dict[str, Any], found: Found, aws: Aws) -> list[Check]:
    described = aws.client("stepfunctions").describe_state_machine(stateMachineArn=found.ref)
    logging, tracing = p.get("LoggingConfiguration", {}), p.get("TracingConfiguration", {})
    destinations = [d["CloudWatchLogsLogGroup"]["LogGroupArn"] for d in logging.get("Destinations", [])]
    actual_logging = described.get("loggingConfiguration", {})
    return [
        Check(logical_id, "StepFunctions", "RoleArn", p["RoleArn"], described["roleArn"]),
        Check(
            logical_id,
            "StepFunctions",
            "DefinitionString",
            json.loads(p["DefinitionString"]),
            json.loads(described["definition"]),
        ),
        Check(
            logical_id,
            "StepFunctions",
            "LoggingConfiguration.Level",
            logging.get("Level", "OFF"),
            actual_logging.get("level"),
        ),
        Check(
            logical_id,
            "StepFunctions",
            "LoggingConfiguration.IncludeExecutionData",
            logging.get("IncludeExecutionData", False),
            actual_logging.get("includeExecutionData"),
        ),
        Check(
            logical_id,
            "StepFunctions",
            "LoggingConfiguration.Destinations",
            destinations,
            [d["cloudWatchLogsLogGroup"]["logGroupArn"] for d in actual_logging.get("destinations", [])],
        ),
        Check(
            logical_id,
            "StepFunctions",
            "TracingConfiguration.Enabled",
            tracing.get("Enabled", False),
            described.get("tracingConfiguration", {}).get("enabled"),
        ),
    ]


_ALARM_PROPERTIES = (
    "AlarmActions",
    "AlarmDescription",
    "ComparisonOperator",
    "Dimensions",
    "EvaluationPeriods",
    "MetricName",
    "Namespace",
    "Period",
    "Statistic",
    "Threshold",
    "TreatMissingData",
)


def _alarm(logical_id: str, p: dict[str, Any], found: Found, aws: Aws) -> list[Check]:
    return [Check(logical_id, "CloudWatch", name, p.get(name), found.described.get(name)) for name in _ALARM_PROPERTIES]


def _nothing(logical_id: str, p: dict[str, Any], found: Found, aws: Aws) -> list[Check]:
    return []


PROPERTY_CHECKS: dict[str, Checker] = {
    "AWS::KMS::Key": _key,
    "AWS::SNS::Topic": _topic,
    "AWS::SNS::TopicPolicy": _topic_policy,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::Lambda::LayerVersion": _layer,
    "AWS::Lambda::Function": _function,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::IAM::Role": _role,
    "AWS::IAM::Policy": _policy,
    "AWS::StepFunctions::StateMachine": _state_machine,
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::CDK::Metadata": _nothing,
}
