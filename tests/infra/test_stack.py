"""CDK assertions on every environment's stack: function, permissions, topic, secret, alarm."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from infra.app_factory import build_app
from infra.config import ConfigError, load_environment
from tests.infra.conftest import cdk_context, synthesize
from tests.infra.templates import DEFAULT_EVENT_BUS_ARN

EXPECTED_RETENTION = {"dev": 14, "staging": 30, "prod": 90}
EXPECTED_EMAILS = {"dev": 0, "staging": 1, "prod": 2}


def _one(synthesized, type_name):
    [(logical_id, resource)] = synthesized.resources(type_name).items()
    return logical_id, resource


def _ref_id(synthesized, type_name, where=lambda r: True):
    [logical_id] = [k for k, v in synthesized.resources(type_name).items() if where(v)]
    return logical_id


def _promote_function(synthesized):
    [(logical_id, function)] = [
        (k, v)
        for k, v in synthesized.resources("AWS::Lambda::Function").items()
        if v["Properties"].get("Handler") == "promote_model.handler.lambda_handler"
    ]
    return logical_id, function["Properties"]


def test_stack_is_named_after_the_environment(synthesized):
    assert synthesized.stack.stack_name == f"PromoteModel-{synthesized.environment}"


def test_function_has_the_specified_runtime_size_and_settings(synthesized):
    _, function = _promote_function(synthesized)
    topic = _ref_id(synthesized, "AWS::SNS::Topic")
    secret = _ref_id(synthesized, "AWS::SecretsManager::Secret")

    assert (function["Runtime"], function["Timeout"], function["MemorySize"]) == ("python3.11", 60, 256)
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert function["LoggingConfig"]["LogFormat"] == "JSON"
    assert function["ReservedConcurrentExecutions"] == 1
    assert len(function["Layers"]) == 1
    assert function["KmsKeyArn"] == {"Fn::GetAtt": [_ref_id(synthesized, "AWS::KMS::Key"), "Arn"]}
    assert function["Environment"]["Variables"] == {
        "MLFLOW_TRACKING_URI": cdk_context(synthesized.environment)["environments"][synthesized.environment][
            "mlflow_tracking_uri"
        ],
        "MLFLOW_CREDENTIALS_SECRET_ARN": {"Ref": secret},
        "MLFLOW_ALLOW_INSECURE_HTTP": "false",
        "MODEL_REGISTRY_NAME": "tradai-models",
        "ENVIRONMENT": synthesized.environment,
        "ALERT_TOPIC_ARN": {"Ref": topic},
        "ALERTS_ENABLED": "true",
        "EVENT_BUS_NAME": "default",
        "PROMOTION_ALIAS": "champion",
        "AUDIT_TAGS_ENABLED": "true",
        "NOTIFICATION_SUBJECT_PREFIX": "[TradAI]",
        "POWERTOOLS_SERVICE_NAME": "promote-model",
        "POWERTOOLS_METRICS_NAMESPACE": "PromoteModel",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


def test_function_logs_to_its_own_group_with_the_environments_retention(synthesized):
    _, function = _promote_function(synthesized)
    log_group = function["LoggingConfig"]["LogGroup"]["Ref"]

    properties = synthesized.template_dict["Resources"][log_group]["Properties"]
    assert properties["RetentionInDays"] == EXPECTED_RETENTION[synthesized.environment]
    assert properties["KmsKeyId"] == {"Fn::GetAtt": [_ref_id(synthesized, "AWS::KMS::Key"), "Arn"]}


def _statements(synthesized, role_ref):
    policies = [
        p["Properties"]
        for p in synthesized.resources("AWS::IAM::Policy").values()
        if {"Ref": role_ref} in p["Properties"]["Roles"]
    ]
    return [s for p in policies for s in p["PolicyDocument"]["Statement"]]


def test_function_role_holds_exactly_the_grants_it_needs(synthesized):
    _, function = _promote_function(synthesized)
    role = function["Role"]["Fn::GetAtt"][0]
    topic = _ref_id(synthesized, "AWS::SNS::Topic")
    secret = _ref_id(synthesized, "AWS::SecretsManager::Secret")
    key = _ref_id(synthesized, "AWS::KMS::Key")
    log_group = function["LoggingConfig"]["LogGroup"]["Ref"]

    granted = sorted(
        (sorted(s["Action"]) if isinstance(s["Action"], list) else [s["Action"]], json.dumps(s["Resource"]))
        for s in _statements(synthesized, role)
    )

    assert all(s["Effect"] == "Allow" for s in _statements(synthesized, role))
    assert granted == sorted(
        [
            (["xray:PutTelemetryRecords", "xray:PutTraceSegments"], json.dumps("*")),
            (["logs:CreateLogStream", "logs:PutLogEvents"], json.dumps({"Fn::GetAtt": [log_group, "Arn"]})),
            (["sns:Publish"], json.dumps({"Ref": topic})),
            (["kms:Decrypt", "kms:GenerateDataKey*"], json.dumps({"Fn::GetAtt": [key, "Arn"]})),
            (["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], json.dumps({"Ref": secret})),
            (["events:PutEvents"], json.dumps(DEFAULT_EVENT_BUS_ARN)),
        ]
    )
    assert synthesized.template_dict["Resources"][role]["Properties"].get("ManagedPolicyArns") is None


def test_topic_is_encrypted_and_refuses_plain_http(synthesized):
    _, topic = _one(synthesized, "AWS::SNS::Topic")
    key = _ref_id(synthesized, "AWS::KMS::Key")

    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key, "Arn"]}
    synthesized.template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Action": "sns:Publish",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_key_rotates_and_lets_cloudwatch_alarms_publish(synthesized):
    _, key = _one(synthesized, "AWS::KMS::Key")

    assert key["Properties"]["EnableKeyRotation"] is True
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    [alarms] = [s for s in statements if s.get("Sid") == "AllowCloudWatchAlarmsToPublish"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert sorted(alarms["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]


def test_key_lets_cloudwatch_logs_encrypt_only_this_accounts_log_groups(synthesized):
    _, key = _one(synthesized, "AWS::KMS::Key")

    [logs] = [
        s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == "AllowCloudWatchLogsOfThisAccount"
    ]
    assert logs["Principal"] == {"Service": {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}}
    assert list(logs["Condition"]["ArnLike"]) == ["kms:EncryptionContext:aws:logs:arn"]


def test_every_log_group_and_the_secret_are_encrypted_with_the_environments_key(synthesized):
    key = {"Fn::GetAtt": [_ref_id(synthesized, "AWS::KMS::Key"), "Arn"]}

    log_groups = synthesized.resources("AWS::Logs::LogGroup").values()
    [secret] = synthesized.resources("AWS::SecretsManager::Secret").values()

    assert len(log_groups) == 2  # the function's and the state machine's
    assert all(group["Properties"]["KmsKeyId"] == key for group in log_groups)
    assert secret["Properties"]["KmsKeyId"] == key


def test_email_subscriptions_come_from_the_environment(synthesized):
    subscriptions = synthesized.resources("AWS::SNS::Subscription").values()

    assert len(subscriptions) == EXPECTED_EMAILS[synthesized.environment]
    for subscription in subscriptions:
        assert subscription["Properties"]["Protocol"] == "email"
        assert subscription["Properties"]["FilterPolicy"] == {
            "event": ["model_promoted", "promotion_failed", {"exists": False}]
        }


def test_secret_is_generated_with_a_long_password(synthesized):
    _, secret = _one(synthesized, "AWS::SecretsManager::Secret")
    generator = secret["Properties"]["GenerateSecretString"]

    assert json.loads(generator["SecretStringTemplate"]) == {"username": "promote-model"}
    assert generator["GenerateStringKey"] == "password"
    assert generator["PasswordLength"] >= 12


def test_alarm_on_function_errors_notifies_the_topic(synthesized):
    function_id, _ = _promote_function(synthesized)
    topic = _ref_id(synthesized, "AWS::SNS::Topic")
    _, alarm = _one(synthesized, "AWS::CloudWatch::Alarm")

    properties = alarm["Properties"]
    assert (properties["MetricName"], properties["Namespace"]) == ("Errors", "AWS/Lambda")
    assert properties["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function_id}}]
    assert (properties["Threshold"], properties["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert properties["AlarmActions"] == [{"Ref": topic}]


def test_standalone_state_machine_logs_and_traces(synthesized):
    _, machine = _one(synthesized, "AWS::StepFunctions::StateMachine")

    assert machine["Properties"]["TracingConfiguration"] == {"Enabled": True}
    assert machine["Properties"]["LoggingConfiguration"]["Level"] == "ALL"


def test_an_existing_secret_is_imported_not_created(tmp_path):
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mlflow/promoter-AbCdEf"

    synthesized = synthesize(tmp_path, "prod", auth={"kind": "basic", "secret_arn": arn})

    assert synthesized.resources("AWS::SecretsManager::Secret") == {}
    _, function = _promote_function(synthesized)
    assert function["Environment"]["Variables"]["MLFLOW_CREDENTIALS_SECRET_ARN"] == arn
    role = function["Role"]["Fn::GetAtt"][0]
    secret_statements = [s for s in _statements(synthesized, role) if "secretsmanager:GetSecretValue" in s["Action"]]
    assert [s["Resource"] for s in secret_statements] == [arn]


def test_a_vpc_places_the_function_in_the_given_subnets(tmp_path):
    vpc = {
        "vpc_id": "vpc-0123456789abcdef0",
        "availability_zones": ["eu-west-1a", "eu-west-1b"],
        "subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
        "security_group_ids": ["sg-0cccccccccccccccc"],
    }

    synthesized = synthesize(tmp_path, "staging", vpc=vpc)

    _, function = _promote_function(synthesized)
    assert function["VpcConfig"] == {
        "SubnetIds": vpc["subnet_ids"],
        "SecurityGroupIds": vpc["security_group_ids"],
    }


def test_unknown_environment_fails_synthesis_naming_the_known_ones():
    with pytest.raises(ConfigError, match="unknown environment 'qa': known environments are dev, local, prod, staging"):
        build_app(cdk_context("dev") | {"environment": "qa"})


def test_missing_environment_fails_synthesis_naming_the_known_ones():
    context = cdk_context("dev")
    del context["environment"]
    with pytest.raises(ConfigError, match="pass -c environment=<name>, one of: dev, local, prod, staging"):
        build_app(context)


def test_detailed_tracing_turns_the_powertools_tracer_on(tmp_path):
    synthesized = synthesize(tmp_path, "dev", detailed_tracing=True)

    _, function = _promote_function(synthesized)
    assert function["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == "false"


def test_cdk_json_sets_the_aliases_audit_tags_and_subject_prefix(tmp_path):
    synthesized = synthesize(
        tmp_path,
        "staging",
        promotion_alias="",
        challenger_alias="challenger",
        audit_tags=False,
        subject_prefix="[Acme ML]",
    )

    _, function = _promote_function(synthesized)
    variables = function["Environment"]["Variables"]
    assert variables["PROMOTION_ALIAS"] == ""  # no alias is kept
    assert variables["CHALLENGER_ALIAS"] == "challenger"
    assert variables["AUDIT_TAGS_ENABLED"] == "false"
    assert variables["NOTIFICATION_SUBJECT_PREFIX"] == "[Acme ML]"
    assert "[Acme ML] Model promotion failed" in json.dumps(synthesized.resources("AWS::StepFunctions::StateMachine"))


def test_sagemaker_auth_in_cdk_json_signs_with_the_role_and_creates_no_secret(tmp_path):
    arn = "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/models"

    synthesized = synthesize(
        tmp_path, "prod", mlflow_tracking_uri=None, auth={"kind": "sagemaker", "tracking_server_arn": arn}
    )

    assert synthesized.resources("AWS::SecretsManager::Secret") == {}
    _, function = _promote_function(synthesized)
    assert function["Environment"]["Variables"]["MLFLOW_TRACKING_URI"] == arn
    assert "MLFLOW_CREDENTIALS_SECRET_ARN" not in function["Environment"]["Variables"]
    role = function["Role"]["Fn::GetAtt"][0]
    [sagemaker] = [s for s in _statements(synthesized, role) if str(s["Action"]).startswith("['sagemaker-mlflow:")]
    assert sagemaker["Resource"] == arn


def test_token_auth_in_cdk_json_needs_a_secret(tmp_path):
    with pytest.raises(ConfigError, match="auth of kind 'token' needs secret_arn"):
        build_app(cdk_context("dev", auth={"kind": "token"}))


def test_reserved_concurrency_false_removes_the_reservation(tmp_path):
    synthesized = synthesize(tmp_path, "dev", reserved_concurrency=False)

    _, function = _promote_function(synthesized)
    assert "ReservedConcurrentExecutions" not in function


def test_cdk_json_event_bus_names_the_bus_or_turns_events_off(tmp_path):
    on_bus = synthesize(tmp_path / "bus", "dev", event_bus="ml-events")
    off = synthesize(tmp_path / "off", "dev", event_bus="")

    assert _promote_function(on_bus)[1]["Environment"]["Variables"]["EVENT_BUS_NAME"] == "ml-events"
    assert _promote_function(off)[1]["Environment"]["Variables"]["EVENT_BUS_NAME"] == ""


def test_a_deploy_time_tracking_uri_overrides_the_environments():
    context = cdk_context("local") | {"mlflow_tracking_uri": "http://127.0.0.1:5999"}

    config = load_environment(context, "local")

    assert config.mlflow_tracking_uri == "http://127.0.0.1:5999"
    assert load_environment(cdk_context("local"), "local").mlflow_tracking_uri == "http://127.0.0.1:5000"
