"""Verify a deployed stack through each service's own API (KMS, SNS, Secrets Manager, Lambda, IAM, Logs,
Step Functions, CloudWatch): every resource of the template exists, with the properties it asks for.

CloudFormation's own view is not trusted: moto's ``ListStackResources`` creates a missing resource when
asked for it, and ``cdk deploy`` has reported success with a resource missing (devtools/deploy/moto_gaps.py).
Each resource is found in its service by the name CloudFormation gives it (``<stack>-<LogicalId>-<suffix>``;
the key, which has no name, by its description), and each property the template sets is compared, after
resolving the template's references to what was found, with what the service answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from devtools.deploy.aws import Aws, Check, Found
from devtools.deploy.property_checks import PROPERTY_CHECKS
from devtools.local.workflow import resolve


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
        checks += PROPERTY_CHECKS[resource["Type"]](logical_id, properties, resource_found, aws)
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


def _find(stack_name: str, logical_id: str, resource: dict[str, Any], aws: Aws) -> Found | None:
    """The resource in its service, or None. A type this module cannot look up is never found: it fails."""
    prefix = f"{stack_name}-{logical_id}-"
    properties = resource.get("Properties", {})
    type_name = resource["Type"]
    if type_name in _LISTINGS:
        listing = _LISTINGS[type_name]
        for item in _pages(aws.client(listing.service), listing.operation, listing.key):
            if item[listing.name].startswith(prefix):
                return Found(item[listing.ref], {a: item[field] for a, field in listing.attributes.items()}, item)
        return None
    if type_name == "AWS::KMS::Key":  # a key has no name: found by its description
        kms = aws.client("kms")
        for key in _pages(kms, "list_keys", "Keys"):
            described = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
            if described.get("Description") == properties.get("Description"):
                return Found(described["KeyId"], {"Arn": described["Arn"]}, described)
    if type_name == "AWS::SNS::Topic":
        for topic in _pages(aws.client("sns"), "list_topics", "Topics"):
            name = topic["TopicArn"].rsplit(":", 1)[1]
            if name.startswith(prefix):
                return Found(topic["TopicArn"], {"TopicName": name})
    if type_name == "AWS::Lambda::LayerVersion":
        for layer in _pages(aws.client("lambda"), "list_layers", "Layers"):
            if layer["LayerName"].startswith(prefix) and layer.get("LatestMatchingVersion"):
                return Found(layer["LatestMatchingVersion"]["LayerVersionArn"], {}, layer["LatestMatchingVersion"])
    if type_name in _PART_OF_ANOTHER:  # checked on the topics or roles it names
        return Found(properties.get("PolicyName", logical_id))
    return None


def _pages(client: Any, operation: str, key: str, **arguments: Any) -> Iterator[Any]:
    if client.can_paginate(operation):
        for page in client.get_paginator(operation).paginate(**arguments):
            yield from page.get(key, [])
    else:
        yield from client.__getattribute__(operation)(**arguments).get(key, [])
