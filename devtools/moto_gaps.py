"""What moto's CloudFormation lacks to deploy this stack, filled in for `make deploy-local` (test support,
never bundled).

moto 5.2.5 (pinned in constraints.txt; `apply` refuses any other version) deploys a CDK template
through change sets, but silently skips or drops parts of it. Each gap below is filled here, in the
moto server process only: run this file as the server (`python devtools/moto_gaps.py -H 127.0.0.1 -p
PORT`, which is what ``devtools.servers.moto_server(fill_gaps=True)`` does). Importing the module
changes nothing; ``apply`` does. ``tests/deploy/test_moto_gaps.py`` proves, per gap, that plain moto
still has it, so an upgrade that closes one is noticed and its fill-in removed.

| gap | plain moto 5.2.5 | filled in |
|---|---|---|
| ``secret`` | skips ``AWS::SecretsManager::Secret``; a ``Ref`` to it vanishes, leaving an IAM statement without a resource | creates the secret, ``GenerateSecretString`` honoured; ``Ref`` is its ARN |
| ``topic_policy`` | skips ``AWS::SNS::TopicPolicy`` | sets the policy on each topic |
| ``alarm`` | skips ``AWS::CloudWatch::Alarm`` | ``PutMetricAlarm`` with the template's properties |
| ``cdk_metadata`` | skips ``AWS::CDK::Metadata`` (CDK's version analytics, nothing in any service) | a resource that creates nothing, as in AWS |
| ``bucket_policy`` | skips ``AWS::S3::BucketPolicy`` (the bootstrap stack's) | recorded in the stack, **not** applied: its statement denies requests without TLS, and the local endpoint is plain http, so it would deny every asset upload |
| ``unsupported_type`` | skips any type it has no model for, silently | the resource fails, naming the type |
| ``failed_resource`` | an error while executing a change set answers HTTP 500; the SDK retries, moto finds nothing left to do, and ``cdk deploy`` reports success with resources missing | the resource gets ``CREATE_FAILED`` with the error, the resources created are deleted (not what a failed one made half-way: moto never recorded it), the stack ends ``ROLLBACK_COMPLETE`` (an update ends ``UPDATE_ROLLBACK_FAILED``: nothing is rolled back) |
| ``change_set_outputs`` | a stack created by a change set has no outputs | outputs evaluated after the change set |
| ``kms_key_policy`` | stores ``KeyPolicy`` as an object: ``GetKeyPolicy`` returns an object, ``DescribeKey`` answers 500 | stored as the JSON document |
| ``function_properties`` | drops ``Layers``, ``TracingConfig``, ``Architectures`` and ``LoggingConfig`` of ``AWS::Lambda::Function`` (and its API never returns ``LoggingConfig``) | kept, and returned by ``GetFunctionConfiguration`` |
| ``layer_version`` | drops ``CompatibleArchitectures`` of ``AWS::Lambda::LayerVersion``, its ``Ref`` is not the version's ARN, and deleting the stack leaves the version | kept; ``Ref`` is the ARN; deleted with the stack |
| ``state_machine_configuration`` | drops ``LoggingConfiguration`` and ``TracingConfiguration`` of ``AWS::StepFunctions::StateMachine`` | kept, as ``DescribeStateMachine`` shapes them |

Not filled, because the local deploy does not need it: ``ListStackResources`` and
``DescribeStackResource`` create a missing resource on the fly, so `make deploy-local` verifies through
each service's own API instead; IAM and KMS policies are stored, never enforced.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

MOTO_VERSION = "5.2.5"
GAPS = (
    "secret",
    "topic_policy",
    "alarm",
    "cdk_metadata",
    "bucket_policy",
    "unsupported_type",
    "failed_resource",
    "change_set_outputs",
    "kms_key_policy",
    "function_properties",
    "layer_version",
    "state_machine_configuration",
)
# Types the fill-in records in the stack without creating anything:
RECORDED_ONLY = (
    # CDK's version analytics: nothing in any service, in AWS either.
    "AWS::CDK::Metadata",
    # The bootstrap stack's staging-bucket policy: it denies requests without TLS, and the local endpoint
    # is plain http, so applying it would deny every asset upload; it is left out of the bucket.
    "AWS::S3::BucketPolicy",
)


# The fill-in models: moto keeps only weak references to CloudFormationModel's subclasses.
_models: list[type] = []


class ResourceFailed(Exception):
    """One template resource could not be created; the stack fails with this reason."""

    def __init__(self, logical_id: str, resource_type: str, reason: str) -> None:
        super().__init__(f"{logical_id} ({resource_type}): {reason}")
        self.logical_id, self.resource_type, self.reason = logical_id, resource_type, reason


def apply() -> None:
    """Fill every gap in this process's moto; refuses a moto other than the one the gaps were measured on."""
    import moto

    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(
            f"devtools/moto_gaps.py fills the gaps of moto {MOTO_VERSION}, not {moto.__version__}: "
            "run tests/deploy/test_moto_gaps.py against the new moto and update the fill-ins"
        )
    from moto.cloudformation import parsing

    _register_models()
    for cache in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cache.cache_clear()  # the model registry is built once from CloudFormationModel's subclasses
    _fail_failed_resources(parsing)
    _keep_kms_key_policy_as_json()
    _keep_function_properties()
    _keep_layer_version()
    _keep_state_machine_configuration()


class _FilledModel:
    """What the fill-in models share. Each is also a *direct* subclass of moto's CloudFormationModel
    (moto looks models up among those, by ``cloudformation_type()``), in the service it stands for."""

    TYPE = ""
    NAME_PROPERTY = ""  # the property that names the resource, if any
    ATTRIBUTES: tuple[str, ...] = ()  # what Fn::GetAtt may ask for

    def __init__(self, physical_id: str, **attributes: Any) -> None:
        self.physical_id, self.attributes = physical_id, attributes

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if attribute_name not in self.attributes:
            raise UnformattedGetAttTemplateException()
        return self.attributes[attribute_name]

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id  # what Ref answers

    def delete(self, account_id: str, region_name: str) -> None:
        del account_id, region_name  # nothing to delete unless the model says otherwise


def _register_models() -> None:
    """gaps ``secret``, ``topic_policy``, ``alarm``, ``cdk_metadata``, ``bucket_policy``."""
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.core.common_models import CloudFormationModel
    from moto.secretsmanager.models import secretsmanager_backends
    from moto.sns.models import sns_backends

    class Secret(_FilledModel, CloudFormationModel):
        __module__ = "moto.secretsmanager.fill_in"  # moto files every model under the service its module names
        TYPE, NAME_PROPERTY, ATTRIBUTES = "AWS::SecretsManager::Secret", "Name", ("Id",)

        @classmethod
        def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **_: Any
        ) -> Secret:
            properties = cloudformation_json["Properties"]
            backend = secretsmanager_backends[account_id][region_name]
            answer = backend.create_secret(
                name=resource_name,
                secret_string=properties.get("SecretString") or _generated_secret(backend, properties),
                secret_binary=None,
                description=properties.get("Description"),
                tags=properties.get("Tags"),
                kms_key_id=properties.get("KmsKeyId"),
                client_request_token=None,
                replica_regions=[],
                force_overwrite=False,
            )
            arn = json.loads(answer)["ARN"]
            return cls(arn, Id=arn)

        def delete(self, account_id: str, region_name: str) -> None:
            secretsmanager_backends[account_id][region_name].delete_secret(
                self.physical_id, recovery_window_in_days=None, force_delete_without_recovery=True
            )

    class TopicPolicy(_FilledModel, CloudFormationModel):
        __module__ = "moto.sns.fill_in"
        TYPE = "AWS::SNS::TopicPolicy"

        @classmethod
        def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **_: Any
        ) -> TopicPolicy:
            properties = cloudformation_json["Properties"]
            backend = sns_backends[account_id][region_name]
            for topic_arn in properties["Topics"]:
                backend.set_topic_attribute(topic_arn, "policy", json.dumps(properties["PolicyDocument"]))
            return cls(resource_name, topics=properties["Topics"])

        def delete(self, account_id: str, region_name: str) -> None:
            backend = sns_backends[account_id][region_name]
            for topic_arn in self.attributes["topics"]:
                if topic_arn in backend.topics:  # deleting a topic takes its policy with it
                    topic = backend.topics[topic_arn]
                    topic._policy_json = topic._create_default_topic_policy(region_name, account_id, topic.name)

    class Alarm(_FilledModel, CloudFormationModel):
        __module__ = "moto.cloudwatch.fill_in"
        TYPE, NAME_PROPERTY, ATTRIBUTES = "AWS::CloudWatch::Alarm", "AlarmName", ("Arn",)

        @classmethod
        def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **_: Any
        ) -> Alarm:
            p = cloudformation_json["Properties"]
            alarm = cloudwatch_backends[account_id][region_name].put_metric_alarm(
                name=resource_name,
                namespace=p.get("Namespace"),
                metric_name=p.get("MetricName"),
                comparison_operator=p["ComparisonOperator"],
                evaluation_periods=p["EvaluationPeriods"],
                period=p.get("Period"),
                threshold=p.get("Threshold"),
                statistic=p.get("Statistic"),
                description=p.get("AlarmDescription"),
                dimensions=p.get("Dimensions", []),
                alarm_actions=p.get("AlarmActions", []),
                datapoints_to_alarm=p.get("DatapointsToAlarm"),
                extended_statistic=p.get("ExtendedStatistic"),
                ok_actions=p.get("OKActions", []),
                insufficient_data_actions=p.get("InsufficientDataActions", []),
                unit=p.get("Unit"),
                actions_enabled=p.get("ActionsEnabled", True),
                treat_missing_data=p.get("TreatMissingData"),
            )
            return cls(resource_name, Arn=alarm.alarm_arn)

        def delete(self, account_id: str, region_name: str) -> None:
            cloudwatch_backends[account_id][region_name].delete_alarms([self.physical_id])

    _models.extend([Secret, TopicPolicy, Alarm, *(_recorded_only_model(t) for t in RECORDED_ONLY)])


def _recorded_only_model(type_name: str) -> type:
    """A model of a stack resource that changes nothing in any service (see ``RECORDED_ONLY``)."""
    from moto.core.common_models import CloudFormationModel

    class RecordedOnly(_FilledModel, CloudFormationModel):
        __module__ = "moto.cloudformation.fill_in"
        TYPE = type_name

        @classmethod
        def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **_: Any
        ) -> RecordedOnly:
            return cls(resource_name)

    RecordedOnly.__name__ = RecordedOnly.__qualname__ = type_name.replace(":", "")
    return RecordedOnly


def _generated_secret(backend: Any, properties: dict[str, Any]) -> str:
    """``GenerateSecretString``: a random password, alone or under a key of the template's JSON object."""
    generate = properties.get("GenerateSecretString", {})
    password = json.loads(
        backend.get_random_password(
            password_length=generate.get("PasswordLength", 32),
            exclude_characters=generate.get("ExcludeCharacters", ""),
            exclude_numbers=generate.get("ExcludeNumbers", False),
            exclude_punctuation=generate.get("ExcludePunctuation", False),
            exclude_uppercase=generate.get("ExcludeUppercase", False),
            exclude_lowercase=generate.get("ExcludeLowercase", False),
            include_space=generate.get("IncludeSpace", False),
            require_each_included_type=generate.get("RequireEachIncludedType", True),
        )
    )["RandomPassword"]
    if "SecretStringTemplate" not in generate:
        return str(password)
    return json.dumps(json.loads(generate["SecretStringTemplate"]) | {generate["GenerateStringKey"]: password})


def _fail_failed_resources(parsing: Any) -> None:
    """gaps ``unsupported_type``, ``failed_resource``, ``change_set_outputs``."""
    from moto.cloudformation.models import CloudFormationBackend, Event

    create_resource = parsing.parse_and_create_resource

    def create_or_fail(logical_id: str, resource_json: dict[str, Any], resources_map: Any, **where: Any) -> Any:
        resource_type = resource_json["Type"]
        condition = resource_json.get("Condition")
        if condition and not resources_map.lazy_condition_map[condition]:
            return None
        if resource_type not in parsing.NULL_MODELS and parsing.resource_class_from_type(resource_type) is None:
            raise ResourceFailed(logical_id, resource_type, f"moto {MOTO_VERSION} cannot create {resource_type}")
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


def _keep_kms_key_policy_as_json() -> None:
    """gap ``kms_key_policy``."""
    from moto.kms.models import Key

    create = Key.create_from_cloudformation_json

    def create_with_json_policy(resource_name: str, cloudformation_json: dict[str, Any], *args: Any, **kw: Any) -> Any:
        properties = cloudformation_json["Properties"]
        if not isinstance(properties.get("KeyPolicy"), str):
            properties["KeyPolicy"] = json.dumps(properties["KeyPolicy"])
        return create(resource_name, cloudformation_json, *args, **kw)

    Key.create_from_cloudformation_json = create_with_json_policy  # type: ignore[method-assign]


def _keep_function_properties() -> None:
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


def _keep_layer_version() -> None:
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


def _keep_state_machine_configuration() -> None:
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


def main(argv: list[str]) -> None:
    apply()
    from moto.server import main as moto_server_main

    moto_server_main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
