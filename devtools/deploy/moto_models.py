"""The resource models moto's CloudFormation lacks for this stack (gaps ``secret``, ``topic_policy``,
``alarm``, ``cdk_metadata``, ``bucket_policy`` of ``devtools.deploy.moto_gaps``): each creates its
resource through the service's own moto backend, as CloudFormation would through the service's API.
"""

from __future__ import annotations

import json
from typing import Any

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


def register_models() -> None:
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
