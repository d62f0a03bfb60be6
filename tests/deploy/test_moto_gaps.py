"""Each gap devtools/deploy/moto_gaps.py fills, proven to exist in plain moto (the session's moto server), and the
fill-ins' own rule that a failed resource fails the stack. When a test here fails after a moto upgrade,
moto closed that gap: remove its fill-in and its row in moto_gaps.py's table."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import moto
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from devtools.deploy.moto_gaps import GAPS, MOTO_VERSION, moto_server_with_gaps_filled
from devtools.local.servers import RunningServer

ROLE_ARN = "arn:aws:iam::123456789012:role/gap-probe"
LAMBDA_ROLE = {
    "Type": "AWS::IAM::Role",
    "Properties": {
        "AssumeRolePolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    },
}
NO_RETRIES = Config(retries={"total_max_attempts": 1})
# Gaps of the form "moto has no model for this type", by the fill-in's name.
SKIPPED_TYPES = {
    "secret": "AWS::SecretsManager::Secret",
    "topic_policy": "AWS::SNS::TopicPolicy",
    "alarm": "AWS::CloudWatch::Alarm",
    "cdk_metadata": "AWS::CDK::Metadata",
    "bucket_policy": "AWS::S3::BucketPolicy",
}
# A resource whose creation raises inside moto (a subscription without its endpoint): HTTP 500.
BROKEN_RESOURCE = {"Type": "AWS::SNS::Topic", "Properties": {"Subscription": [{"Protocol": "sqs"}]}}


def _name() -> str:
    return f"gap-{uuid.uuid4().hex[:8]}"


def _template(resources: dict[str, Any], outputs: dict[str, Any] | None = None) -> str:
    return json.dumps({"Resources": resources, "Outputs": outputs or {}})


def _create_stack(resources: dict[str, Any], outputs: dict[str, Any] | None = None) -> dict[str, Any]:
    cloudformation = boto3.client("cloudformation")
    name = _name()
    cloudformation.create_stack(StackName=name, TemplateBody=_template(resources, outputs))
    [stack] = cloudformation.describe_stacks(StackName=name)["Stacks"]
    return stack


def _deploy_change_set(cloudformation: Any, resources: dict[str, Any], outputs: dict[str, Any] | None = None) -> str:
    """What `cdk deploy` does: create a change set of type CREATE, then execute it."""
    name = _name()
    cloudformation.create_change_set(
        StackName=name, ChangeSetName="cdk-deploy", ChangeSetType="CREATE", TemplateBody=_template(resources, outputs)
    )
    cloudformation.execute_change_set(StackName=name, ChangeSetName="cdk-deploy")
    return name


def test_the_installed_moto_is_the_version_the_gaps_were_measured_on():
    assert moto.__version__ == MOTO_VERSION


def test_every_gap_has_a_proof_here():
    proven = {*SKIPPED_TYPES, "unsupported_type", "failed_resource", "change_set_outputs", "kms_key_policy"}
    proven |= {"function_properties", "layer_version", "state_machine_configuration"}
    assert proven == set(GAPS)


@pytest.mark.parametrize("gap", sorted(SKIPPED_TYPES))
def test_gap_moto_has_no_model_for_the_type(gap):
    from moto.cloudformation.parsing import resource_class_from_type

    assert resource_class_from_type(SKIPPED_TYPES[gap]) is None


def test_gap_secret_is_skipped_and_a_reference_to_it_resolves_to_nothing(moto):
    stack = _create_stack(
        {
            "Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {"Name": _name()}},
            "Topic": {"Type": "AWS::SNS::Topic"},
        },
        outputs={"SecretArn": {"Value": {"Ref": "Secret"}}},
    )

    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert "SecretArn" not in {o["OutputKey"] for o in stack.get("Outputs", [])}


def test_gap_unsupported_type_completes_the_stack_without_it(moto):
    stack = _create_stack({"Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmName": _name()}}})

    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert boto3.client("cloudwatch").describe_alarms(AlarmNames=[stack["StackName"]])["MetricAlarms"] == []


def test_gap_failed_resource_answers_500_and_a_retry_reports_success(moto):
    cloudformation = boto3.client("cloudformation", config=NO_RETRIES)
    name = _name()
    cloudformation.create_change_set(
        StackName=name,
        ChangeSetName="cdk-deploy",
        ChangeSetType="CREATE",
        TemplateBody=_template({"Broken": BROKEN_RESOURCE}),
    )

    with pytest.raises(ResponseParserError, match="500 Internal Server Error"):
        cloudformation.execute_change_set(StackName=name, ChangeSetName="cdk-deploy")
    cloudformation.execute_change_set(StackName=name, ChangeSetName="cdk-deploy")  # the CLI's SDK retries a 500

    [stack] = cloudformation.describe_stacks(StackName=name)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    events = cloudformation.describe_stack_events(StackName=name)["StackEvents"]
    assert not [e for e in events if "FAILED" in e["ResourceStatus"]]


def test_gap_change_set_outputs_are_missing(moto):
    cloudformation = boto3.client("cloudformation")

    name = _deploy_change_set(
        cloudformation, {"Topic": {"Type": "AWS::SNS::Topic"}}, outputs={"TopicArn": {"Value": {"Ref": "Topic"}}}
    )

    [stack] = cloudformation.describe_stacks(StackName=name)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert "Outputs" not in stack


def test_gap_kms_key_policy_is_stored_as_an_object_and_describe_key_answers_500(moto):
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}]}  # fmt: skip
    stack = _create_stack(
        {"Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": policy}}},
        outputs={"KeyArn": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}}},
    )
    [key_arn] = [o["OutputValue"] for o in stack["Outputs"]]

    kms = boto3.client("kms", config=NO_RETRIES)

    assert not isinstance(kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"], str)
    with pytest.raises(ClientError) as error:
        kms.describe_key(KeyId=key_arn)
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


@pytest.fixture
def layer_content(moto) -> dict[str, str]:
    """A layer zip in a bucket, as a CloudFormation ``Content``."""
    s3, bucket = boto3.client("s3"), _name()
    s3.create_bucket(Bucket=bucket)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("python/probe.py", "")
    s3.put_object(Bucket=bucket, Key="layer.zip", Body=archive.getvalue())
    return {"S3Bucket": bucket, "S3Key": "layer.zip"}


def test_gap_function_properties_are_dropped(moto, layer_content):
    function = {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Code": {"ZipFile": "def handler(event, context): return event"},
            "Handler": "index.handler",
            "Runtime": "python3.11",
            "Role": {"Fn::GetAtt": ["Role", "Arn"]},
            "Architectures": ["arm64"],
            "TracingConfig": {"Mode": "Active"},
            "LoggingConfig": {"LogFormat": "JSON"},
            "Layers": [{"Ref": "Layer"}],
        },
    }
    layer = {"Type": "AWS::Lambda::LayerVersion", "Properties": {"Content": layer_content}}
    stack = _create_stack(
        {"Function": function, "Layer": layer, "Role": LAMBDA_ROLE}, outputs={"Name": {"Value": {"Ref": "Function"}}}
    )

    [name] = [o["OutputValue"] for o in stack["Outputs"]]
    configuration = boto3.client("lambda").get_function_configuration(FunctionName=name)
    assert configuration["Architectures"] == ["x86_64"]
    assert configuration["TracingConfig"] == {"Mode": "PassThrough"}
    assert configuration["Layers"] == []
    assert "LoggingConfig" not in configuration


def test_gap_layer_version_drops_architectures_its_ref_is_not_an_arn_and_it_outlives_its_stack(moto, layer_content):
    layer = {"Type": "AWS::Lambda::LayerVersion", "Properties": {"Content": layer_content, "CompatibleArchitectures": ["arm64"]}}  # fmt: skip

    stack = _create_stack({"Layer": layer}, outputs={"Ref": {"Value": {"Ref": "Layer"}}})

    def versions() -> list[dict[str, Any]]:
        layers = boto3.client("lambda").list_layers()["Layers"]
        return [v["LatestMatchingVersion"] for v in layers if v["LayerName"].startswith(f"{stack['StackName']}-Layer-")]

    [version] = versions()
    assert "CompatibleArchitectures" not in version
    assert [o["OutputValue"] for o in stack["Outputs"]] != [version["LayerVersionArn"]]
    boto3.client("cloudformation").delete_stack(StackName=stack["StackName"])
    assert versions() == [version]


def test_gap_state_machine_configuration_is_dropped(moto):
    machine = {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {
            "DefinitionString": json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
            "RoleArn": ROLE_ARN,
            "TracingConfiguration": {"Enabled": True},
            "LoggingConfiguration": {"Level": "ALL", "IncludeExecutionData": False, "Destinations": []},
        },
    }

    stack = _create_stack({"Machine": machine}, outputs={"Arn": {"Value": {"Ref": "Machine"}}})

    [arn] = [o["OutputValue"] for o in stack["Outputs"]]
    described = boto3.client("stepfunctions").describe_state_machine(stateMachineArn=arn)
    assert described["tracingConfiguration"] == {"enabled": False}
    assert described["loggingConfiguration"]["level"] == "OFF"


@pytest.fixture(scope="module")
def moto_with_gaps_filled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with moto_server_with_gaps_filled(Path(tmp_path_factory.mktemp("moto-gaps"))) as server:
        yield server


def _failure(server: RunningServer, resources: dict[str, Any]) -> tuple[str, list[str]]:
    cloudformation = boto3.client("cloudformation", endpoint_url=server.url, config=NO_RETRIES)
    name = _deploy_change_set(cloudformation, resources)
    [stack] = cloudformation.describe_stacks(StackName=name)["Stacks"]
    events = cloudformation.describe_stack_events(StackName=name)["StackEvents"]
    failed = [f"{e['LogicalResourceId']}: {e['ResourceStatusReason']}" for e in events if e["ResourceStatus"] == "CREATE_FAILED"]  # fmt: skip
    return stack["StackStatus"], failed


def test_with_the_fill_ins_a_failed_resource_fails_the_stack(moto, moto_with_gaps_filled):
    status, failed = _failure(moto_with_gaps_filled, {"Fine": {"Type": "AWS::SNS::Topic"}, "Broken": BROKEN_RESOURCE})

    assert status == "ROLLBACK_COMPLETE"
    assert failed == ["Broken: KeyError: 'Endpoint'"]
    topics = boto3.client("sns", endpoint_url=moto_with_gaps_filled.url).list_topics()["Topics"]
    assert not [t for t in topics if "-Fine-" in t["TopicArn"]]  # rolled back


def test_with_the_fill_ins_an_unsupported_type_fails_the_stack(moto, moto_with_gaps_filled):
    status, failed = _failure(moto_with_gaps_filled, {"Thing": {"Type": "AWS::Example::Unknown"}})

    assert status == "ROLLBACK_COMPLETE"
    assert failed == [f"Thing: moto {MOTO_VERSION} cannot create AWS::Example::Unknown"]
