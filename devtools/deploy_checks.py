"""Verify a deployed stack through each service's own API (KMS, SNS, Secrets Manager, Lambda, IAM, Logs,
Step Functions, CloudWatch): every resource of the template exists, with the properties it asks for.

CloudFormation's own view is not trusted: moto's ``ListStackResources`` creates a missing resource when
asked for it, and ``cdk deploy`` has reported success with a resource missing (devtools/moto_gaps.py).
Each resource is found in its service by the name CloudFormation gives it (``<stack>-<LogicalId>-<suffix>``;
the key, which has no name, by its description), and each property the template sets is compared, after
resolving the template's references to what was found, with what the service answers.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from devtools.local_workflow import resolve


@dataclass(frozen=True)
class Aws:
    """Clients of one local AWS endpoint, with explicit credentials (never this shell's)."""

    endpoint_url: str
    region: str = "us-east-1"
    account: str = "123456789012"

    def client(self, service: str) -> Any:
        return _client(self.endpoint_url, self.region, service)


@functools.cache
def _client(endpoint_url: str, region: str, service: str) -> Any:
    import boto3

    session = boto3.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name=region)
    return session.client(service, endpoint_url=endpoint_url)


@dataclass(frozen=True)
class Check:
    resource: str  # the template's logical id
    service: str
    name: str
    expected: Any
    actual: Any

    @property
    def passed(self) -> bool:
        return bool(self.expected == self.actual)


class _Found:
    """A resource found in its service: what ``Ref`` and ``Fn::GetAtt`` give for it, and its API answer."""

    def __init__(self, ref: str, attributes: dict[str, str] | None = None, described: Any = None) -> None:
        self.ref, self.attributes, self.described = ref, attributes or {}, described


def verify_stack(template: dict[str, Any], stack_name: str, aws: Aws) -> list[Check]:
    """One check per resource (found in its service) and per property the template sets."""
    resources = template["Resources"]
    found = {logical_id: _find(stack_name, logical_id, r, aws) for logical_id, r in resources.items()}
    references = {
        "AWS::AccountId": aws.account,
        "AWS::Region": aws.region,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }
    for logical_id, resource in found.items():
        if resource is not None:
            references[logical_id] = resource.ref
            references |= {f"{logical_id}.{name}": value for name, value in resource.attributes.items()}
    checks = []
    for logical_id, resource in resources.items():
        exists = found[logical_id] is not None or resource["Type"] in _NOT_IN_ANY_SERVICE
        checks.append(Check(logical_id, _service(resource["Type"]), "exists", True, exists))
        resource_found = found[logical_id]
        if resource_found is None:
            continue
        try:
            properties = resolve(resource.get("Properties", {}), references)
        except KeyError as missing:  # it refers to a resource that was not found
            checks.append(Check(logical_id, _service(resource["Type"]), "references", "found", f"{missing} not found"))
            continue
        checks += _CHECKS[resource["Type"]](logical_id, properties, resource_found, aws)
    return checks


def table(checks: list[Check]) -> str:
    """The checks as a table, failures marked, for a person to read."""
    rows = [("", "resource", "service", "property", "value")]
    for check in checks:
        value = _short(check.actual) if check.passed else f"{_short(check.actual)} (expected {_short(check.expected)})"
        rows.append(("ok" if check.passed else "FAIL", check.resource, check.service, check.name, value))
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    return "\n".join(
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[4]]) for row in rows
    )


def _short(value: Any, width: int = 70) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= width else text[: width - 3] + "..."


# CloudFormation-only resources: they create nothing in any service, in AWS either.
_NOT_IN_ANY_SERVICE = {"AWS::CDK::Metadata"}
# Resources that live on another one (a topic's policy, a role's inline policy): found with it.
_PART_OF_ANOTHER = {"AWS::SNS::TopicPolicy", "AWS::IAM::Policy"}


def still_exists(stack_name: str, logical_id: str, resource: dict[str, Any], aws: Aws) -> bool:
    """Whether the resource is still in its service (after a destroy); parts of another resource go with it."""
    if resource["Type"] in _NOT_IN_ANY_SERVICE | _PART_OF_ANOTHER:
        return False
    return _find(stack_name, logical_id, resource, aws) is not None


def _service(type_name: str) -> str:
    return type_name.split("::")[1]


@dataclass(frozen=True)
class _Listing:
    """Where a service lists a type's resources, and which fields give the name, ``Ref`` and attributes."""

    service: str
    operation: str
    key: str
    name: str
    ref: str
    attributes: dict[str, str]


_LISTINGS = {
    "AWS::SecretsManager::Secret": _Listing("secretsmanager", "list_secrets", "SecretList", "Name", "ARN", {"Id": "ARN"}),
    "AWS::Lambda::Function": _Listing("lambda", "list_functions", "Functions", "FunctionName", "FunctionName", {"Arn": "FunctionArn"}),
    "AWS::Logs::LogGroup": _Listing("logs", "describe_log_groups", "logGroups", "logGroupName", "logGroupName", {"Arn": "logGroupArn"}),
    "AWS::IAM::Role": _Listing("iam", "list_roles", "Roles", "RoleName", "RoleName", {"Arn": "Arn"}),
    "AWS::StepFunctions::StateMachine": _Listing("stepfunctions", "list_state_machines", "stateMachines", "name", "stateMachineArn", {"Name": "name"}),
    "AWS::CloudWatch::Alarm": _Listing("cloudwatch", "describe_alarms", "MetricAlarms", "AlarmName", "AlarmName", {"Arn": "AlarmArn"}),
}  # fmt: skip


def _find(stack_name: str, logical_id: str, resource: dict[str, Any], aws: Aws) -> _Found | None:
    """The resource in its service, or None. A type this module cannot look up is never found: it fails."""
    prefix = f"{stack_name}-{logical_id}-"
    properties = resource.get("Properties", {})
    type_name = resource["Type"]
    if type_name in _LISTINGS:
        listing = _LISTINGS[type_name]
        for item in _pages(aws.client(listing.service), listing.operation, listing.key):
            if item[listing.name].startswith(prefix):
                return _Found(item[listing.ref], {a: item[field] for a, field in listing.attributes.items()}, item)
        return None
    if type_name == "AWS::KMS::Key":  # a key has no name: found by its description
        kms = aws.client("kms")
        for key in _pages(kms, "list_keys", "Keys"):
            described = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
            if described.get("Description") == properties.get("Description"):
                return _Found(described["KeyId"], {"Arn": described["Arn"]}, described)
    if type_name == "AWS::SNS::Topic":
        for topic in _pages(aws.client("sns"), "list_topics", "Topics"):
            name = topic["TopicArn"].rsplit(":", 1)[1]
            if name.startswith(prefix):
                return _Found(topic["TopicArn"], {"TopicName": name})
    if type_name == "AWS::Lambda::LayerVersion":
        for layer in _pages(aws.client("lambda"), "list_layers", "Layers"):
            if layer["LayerName"].startswith(prefix) and layer.get("LatestMatchingVersion"):
                return _Found(layer["LatestMatchingVersion"]["LayerVersionArn"], {}, layer["LatestMatchingVersion"])
    if type_name in _PART_OF_ANOTHER:  # checked on the topics or roles it names
        return _Found(properties.get("PolicyName", logical_id))
    return None


def _pages(client: Any, operation: str, key: str, **arguments: Any) -> Iterator[Any]:
    if client.can_paginate(operation):
        for page in client.get_paginator(operation).paginate(**arguments):
            yield from page.get(key, [])
    else:
        yield from client.__getattribute__(operation)(**arguments).get(key, [])


Checker = Callable[[str, dict[str, Any], _Found, Aws], list[Check]]


def _key(logical_id: str, p: dict[str, Any], found: _Found, aws: Aws) -> list[Check]:
    kms = aws.client("kms")
    policy = json.loads(kms.get_key_policy(KeyId=found.ref, PolicyName="default")["Policy"])
    rotation = kms.get_key_rotation_status(KeyId=found.ref)["KeyRotationEnabled"]
    return [
        Check(logical_id, "KMS", "Description", p.get("Description"), found.described.get("Description")),
        Check(logical_id, "KMS", "EnableKeyRotation", p.get("EnableKeyRotation", False), rotation),
        Check(logical_id, "KMS", "KeyPolicy", p["KeyPolicy"], policy),
        Check(logical_id, "KMS", "KeyState", "Enabled", found.described["KeyState"]),
    ]


def _topic(logical_id: str, p: dict[str, Any], found: _Found, aws: Aws) -> list[Check]:
    attributes = aws.client("sns").get_topic_attributes(TopicArn=found.ref)["Attributes"]
    return [
        Check(logical_id, "SNS", "DisplayName", p.get("DisplayName", ""), attributes.get("DisplayName")),
        Check(logical_id, "SNS", "KmsMasterKeyId", p.get("KmsMasterKeyId"), attributes.get("KmsMasterKeyId")),
    ]


def _topic_policy(logical_id: str, p: dict[str, Any], found: _Found, aws: Aws) -> list[Check]:
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


def _secret(logical_id: str, p: dict[str, Any], found: _Found, aws: Aws) -> list[Check]:
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


def layer_version(arn: str) -> dict[str, Any]:
    """``GetLayerVersion``'s arguments for a version ARN (moto has no ``GetLayerVersionByArn``)."""
    layer, version = arn.rsplit(":", 1)
    return {"LayerName": layer, "VersionNumber": int(version)}


def _s3_sha256(location: dict[str, str], aws: Aws) -> str:
    """Lambda's CodeSha256 of an asset in the bootstrap bucket: base64 of the zip's SHA-256."""
    body = aws.client("s3").get_object(Bucket=location["S3Bucket"], Key=location["S3Key"])["Body"].read()
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def _layer(logical_id: str, p: dict[str, Any], found: _Found, aws: Aws) -> list[Check]:
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


def _function(logical_id: str, p: dict[str, Any], found: _Found, aws: Aws) -> list[Check]:
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


def _log_group(logical_id: str, p: dict[str, Any], found: _Found, aws: Aws) -> list[Check]:
    return [
        Check(logical_id, "Logs", "RetentionInDays", p.get("RetentionInDays"), found.described.get("retentionInDays"))
    ]


def _role(logical_id: str, p: dict[str, Any], found: _Found, aws: Aws) -> list[Check]:
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


def _policy(logical_id: str, p: dict[str, Any], found: _Found, aws: Aws) -> list[Check]:
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


def _state_machine(logical_id: str, p: dict[str, Any], found: _Found, aws: Aws) -> list[Check]:
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


def _alarm(logical_id: str, p: dict[str, Any], found: _Found, aws: Aws) -> list[Check]:
    return [Check(logical_id, "CloudWatch", name, p.get(name), found.described.get(name)) for name in _ALARM_PROPERTIES]


def _nothing(logical_id: str, p: dict[str, Any], found: _Found, aws: Aws) -> list[Check]:
    return []


_CHECKS: dict[str, Checker] = {
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
