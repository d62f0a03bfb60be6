"""Reading synthesized CloudFormation templates: resources by type, a function's grants, a state
machine's states."""

from __future__ import annotations

import json
from typing import Any

# The account's default EventBridge bus, where the function puts its "Model Promotion" events.
DEFAULT_EVENT_BUS_ARN = {
    "Fn::Join": [
        "",
        [
            "arn:",
            {"Ref": "AWS::Partition"},
            ":events:",
            {"Ref": "AWS::Region"},
            ":",
            {"Ref": "AWS::AccountId"},
            ":event-bus/default",
        ],
    ]
}


def resources(template: dict[str, Any], type_name: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_name}


def only(template: dict[str, Any], type_name: str) -> str:
    [logical_id] = resources(template, type_name)
    return logical_id


def function_grants(template: dict[str, Any], function_id: str | None = None) -> list[tuple[list[str], str]]:
    """A function role's grants as (actions, resource) per resource, whatever statements the CDK
    merged (``@aws-cdk/aws-iam:minimizePolicies`` differs between apps). No grant may be a Deny or
    carry a condition."""
    functions = resources(template, "AWS::Lambda::Function")
    function = functions[function_id] if function_id else next(iter(functions.values()))
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = [
        s
        for p in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert all(s["Effect"] == "Allow" and "Condition" not in s for s in statements)
    actions_by_resource: dict[str, set[str]] = {}
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for target in targets:
            actions_by_resource.setdefault(json.dumps(target), set()).update(actions)
    return sorted((sorted(actions), target) for target, actions in actions_by_resource.items())


def state_machine_states(template: dict[str, Any]) -> dict[str, Any]:
    """The one state machine's states, each CloudFormation reference in it as {"ref": ...}."""
    [machine] = resources(template, "AWS::StepFunctions::StateMachine").values()
    definition = machine["Properties"]["DefinitionString"]
    if isinstance(definition, dict):  # Fn::Join of text and references
        _, parts = definition["Fn::Join"]
        definition = "".join(
            part if isinstance(part, str) else json.dumps(json.dumps({"ref": part}))[1:-1] for part in parts
        )
    return {name: _unwrap_refs(state) for name, state in json.loads(definition)["States"].items()}


def _unwrap_refs(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _unwrap_refs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap_refs(v) for v in value]
    if isinstance(value, str) and value.startswith('{"ref"'):
        return json.loads(value)["ref"]
    return value
