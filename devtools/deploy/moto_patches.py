"""Patches to moto's own CloudFormation and resource models, for the gaps of ``devtools.deploy.moto_gaps``
that are not a missing model: a failed resource fails the stack (``unsupported_type``,
``failed_resource``, ``change_set_outputs``), and the properties moto drops are kept (``kms_key_policy``,
``function_properties``, ``layer_version``, ``state_machine_configuration``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


class ResourceFailed(Exception):
    """One template resource could not be created; the stack fails with this reason."""

    def __init__(self, logical_id: str, resource_type: str, reason: str) -> None:
        super().__init__(f"{logical_id} ({resource_type}): {reason}")
        self.logical_id, self.resource_type, self.reason = logical_id, resource_type, reason


def fail_failed_resources(parsing: Any) -> None:
    """gaps ``unsupported_type``, ``failed_resource``, ``change_set_outputs``."""
    import moto
    from moto.cloudformation.models import CloudFormationBackend, Event

    create_resource = parsing.parse_and_create_resource

    def create_or_fail(logical_id: str, resource_json: dict[str, Any], resources_map: Any, **where: Any) -> Any:
        resource_type = resource_json["Type"]
        condition = resource_json.get("Condition")
        if condition and not resources_map.lazy_condition_map[condition]:
            return None
        if resource_type not in parsing.NULL_MODELS and parsing.resource_class_from_type(resource_type) is None:
            raise ResourceFailed(logical_id, resource_type, f"moto {moto.__version__} cannot create {resource_type}")
        try:
            return create_resource(logical_id, resource_json, resources_map, **where)
        except ResourceFailed:
            raise  # a resource this one refers to failed: that one is the cause
        except Exception as error:
            raise ResourceFailed(logical_id, resource_type, f"{type(error).__name__}: {error}") from error

    parsing.parse_and_create_resource = create_or_fail
    execute_change_set = CloudFormationBackend.execute_change_set

    def execute_or_fail(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = self.describe_change_set(change_set_name)
        stack = self.stacks[change_set.stack_id]
        try:
            execute_change_set(self, change_set_name, stack_name)
        except ResourceFailed as failure:
            # As CloudFormation does: the call succeeds, the stack's status and events tell the failure.
            change_set.execution_status = "EXECUTE_FAILED"
            stack.events.append(
                Event(stack.stack_id, stack.name, failure.logical_id, "", failure.resource_type,
                      "CREATE_FAILED", failure.reason, None)
            )  # fmt: skip
            if change_set.change_set_type != "CREATE":
                stack.status = "UPDATE_ROLLBACK_FAILED"
                stack._add_stack_event(stack.status, f"moto cannot roll back an update; {failure}")
                return
            stack._add_stack_event("ROLLBACK_IN_PROGRESS", f"The following resource(s) failed to create: {failure}")
            try:
                stack.resource_map.delete()
                stack.status = "ROLLBACK_COMPLETE"
            except Exception:
                stack.status = "ROLLBACK_FAILED"
            stack._add_stack_event(stack.status)
            return
        stack._parse_template()
        stack.output_map = stack._create_output_map()

    CloudFormationBackend.execute_change_set = execute_or_fail  # type: ignore[method-assign]


def _wrap_create(model: Any, fill: Callable[[Any, dict[str, Any]], None]) -> None:
    """Let ``fill(resource, properties)`` complete what moto's ``create_from_cloudformation_json`` made."""
    create = model.create_from_cloudformation_json

    def create_and_fill(resource_name: str, cloudformation_json: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        resource = create(resource_name, cloudformation_json, *args, **kwargs)
        fill(resource, cloudformation_json["Properties"])
        return resource

    model.create_from_cloudformation_json = create_and_fill


def keep_kms_key_policy_as_json() -> None:
    """gap ``kms_key_policy``."""
    from moto.kms.models import Key

    create = Key.create_from_cloudformation_json

    def create_with_json_policy(resource_name: str, cloudformation_json: dict[str, Any], *args: Any, **kw: Any) -> Any:
        properties = cloudformation_json["Properties"]
        if not isinstance(properties.get("KeyPolicy"), str):
            properties["KeyPolicy"] = json.dumps(properties["KeyPolicy"])
        return create(resource_name, cloudformation_json, *args, **kw)

    Key.create_from_cloudformation_json = create_with_json_policy  # type: ignore[method-assign]


def keep_function_properties() -> None:
    """gap ``function_properties``."""
    from moto.awslambda.models import LambdaFunction

    def fill(function: Any, properties: dict[str, Any]) -> None:
        if "Layers" in properties:
            function.layers = function._get_layers_data(properties["Layers"])
        if "TracingConfig" in properties:
            function.tracing_config = properties["TracingConfig"]
        if "Architectures" in properties:
            function.architectures = properties["Architectures"]
        function.logging_config = properties.get("LoggingConfig")

    _wrap_create(LambdaFunction, fill)
    get_configuration = LambdaFunction.get_configuration

    def get_configuration_with_logging(self: Any, on_create: bool = False) -> dict[str, Any]:
        configuration: dict[str, Any] = get_configuration(self, on_create)
        if getattr(self, "logging_config", None):
            configuration["LoggingConfig"] = self.logging_config
        return configuration

    LambdaFunction.get_configuration = get_configuration_with_logging  # type: ignore[method-assign]


def keep_layer_version() -> None:
    """gap ``layer_version``."""
    from moto.awslambda.models import LayerVersion

    LayerVersion.physical_resource_id = property(lambda self: self.arn)  # type: ignore[attr-defined]

    def delete(self: Any, account_id: str, region_name: str) -> None:
        from moto.awslambda.models import lambda_backends

        lambda_backends[account_id][region_name].delete_layer_version(self.name, str(self.version))

    LayerVersion.delete = delete  # type: ignore[attr-defined]

    def fill(layer_version: Any, properties: dict[str, Any]) -> None:
        layer_version.compatible_architectures = properties.get("CompatibleArchitectures", [])

    _wrap_create(LayerVersion, fill)


def keep_state_machine_configuration() -> None:
    """gap ``state_machine_configuration``: CloudFormation's PascalCase keys become the API's camelCase."""
    from moto.stepfunctions.models import StateMachine

    def fill(machine: Any, properties: dict[str, Any]) -> None:
        if "LoggingConfiguration" in properties:
            machine.loggingConfiguration = _camel_case_keys(properties["LoggingConfiguration"])
        if "TracingConfiguration" in properties:
            machine.tracingConfiguration = _camel_case_keys(properties["TracingConfiguration"])

    _wrap_create(StateMachine, fill)


def _camel_case_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key[:1].lower() + key[1:]: _camel_case_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_camel_case_keys(item) for item in value]
    return value
