"""What the library reports at synth, each in a bare ``Stack()``: literal event values the function
would refuse, warnings for plain http and for a Map above the reserved concurrency, the Map recipe,
and the grants and key-policy statements customer keys need."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import CfnParameter, Stack
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Annotations, Match, Template

from promote_model_cdk import MlflowAuth, PromoteModel, PromoteModelFragment, PromotionDashboard
from tests.infra.stacks import bare_stack, make_promote_model
from tests.infra.templates import resources

SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mlflow/promote-model-AbCdEf"
KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _fragment(stack: Stack, **inputs: Any) -> PromoteModelFragment:
    return make_promote_model(stack).fragment(
        stack, "Promotion", on_not_promoted=sfn.Succeed(stack, "Keep"), on_failure=sfn.Fail(stack, "Failed"), **inputs
    )


def _warnings(stack: Stack, pattern: str) -> list[Any]:
    return Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp(pattern))


# --- literal event values ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "named"),
    [
        ({"model_name": ""}, "model_name=''"),
        ({"model_name": "team/ranker"}, "model_name='team/ranker'"),
        ({"new_version": "latest"}, "new_version='latest'"),
        ({"confidence": 1.5}, "confidence=1.5"),
    ],
)
def test_a_literal_the_function_would_refuse_fails_at_synth_naming_the_parameter(inputs, named):
    with pytest.raises(ValueError, match="function would refuse") as refused:
        _fragment(bare_stack(), **inputs)

    assert named in str(refused.value)


def test_valid_literals_and_jsonpaths_synthesize():
    stack = bare_stack()
    fragment = _fragment(
        stack, model_name="ranker", new_version="7", confidence=0.8, execution_id=sfn.JsonPath.string_at("$.run")
    )

    assert fragment.task.node.id == "PromoteModel"


# --- warnings ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("auth", [MlflowAuth.basic(), "token"])
def test_credentials_over_plain_http_are_warned_of(auth):
    stack = bare_stack()
    if auth == "token":
        auth = MlflowAuth.token(secretsmanager.Secret.from_secret_complete_arn(stack, "Token", SECRET_ARN))

    make_promote_model(stack, tracking_uri="http://mlflow.internal:5000", auth=auth, allow_insecure_http=True)

    [warning] = _warnings(stack, "plain http")
    assert "credentials cross the network unencrypted" in warning.entry.data


def test_plain_http_without_allow_insecure_http_is_warned_of_and_https_or_loopback_is_not():
    http_stack, https_stack, loopback_stack = bare_stack(), bare_stack(), bare_stack()
    make_promote_model(http_stack, tracking_uri="http://mlflow.internal:5000")
    make_promote_model(https_stack)
    make_promote_model(loopback_stack, tracking_uri="http://127.0.0.1:5000", auth=MlflowAuth.basic())

    assert "allow_insecure_http=True" in _warnings(http_stack, "plain http")[0].entry.data
    assert _warnings(https_stack, "plain http") == []
    assert _warnings(loopback_stack, "plain http") == []  # the function accepts loopback http


def _map_of_promotions(stack: Stack, promote_model: PromoteModel, *, max_concurrency: int) -> sfn.StateMachine:
    """The Map recipe (docs/cdk-conventions.md): one promotion per item of ``$.models``, each
    iteration with its own not-promoted and failure states, so a failure ends only that iteration."""
    models = sfn.Map(
        stack,
        "PromoteEachModel",
        items_path="$.models",
        max_concurrency=max_concurrency,
        result_path="$.promotions",
    )
    promotion = promote_model.fragment(
        stack,
        "Promotion",
        on_not_promoted=sfn.Pass(stack, "NotPromoted"),  # inside the iteration
        on_failure=sfn.Pass(stack, "PromotionFailed"),  # inside the iteration: records $.error, ends it
    )
    models.item_processor(promotion)
    return sfn.StateMachine(stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(models))


def test_the_map_recipe_composes_one_promotion_per_model():
    stack = bare_stack()
    _map_of_promotions(stack, make_promote_model(stack), max_concurrency=1)
    [machine] = resources(Template.from_stack(stack).to_json(), "AWS::StepFunctions::StateMachine").values()
    _, parts = machine["Properties"]["DefinitionString"]["Fn::Join"]
    definition = json.loads("".join(p if isinstance(p, str) else "REF" for p in parts))

    each = definition["States"]["PromoteEachModel"]
    assert (each["Type"], each["ItemsPath"], each["MaxConcurrency"]) == ("Map", "$.models", 1)
    states = each["ItemProcessor"]["States"]
    assert each["ItemProcessor"]["StartAt"] == "IsNewVersionGiven"  # an item without a version is fine
    assert {"PromoteModel", "WasModelPromoted", "ModelPromoted", "NotPromoted", "PromotionFailed"} <= set(states)
    assert states["PromoteModel"]["Catch"][-1]["Next"] == "PromotionFailed"
    assert _warnings(stack, "reserved_concurrency") == []


def test_an_on_failure_state_outside_the_map_is_refused_by_the_cdk():
    stack = bare_stack()
    outside = sfn.Fail(stack, "Failed")
    models = sfn.Map(stack, "PromoteEachModel", items_path="$.models")
    models.item_processor(
        make_promote_model(stack).fragment(
            stack, "Promotion", on_not_promoted=sfn.Pass(stack, "No"), on_failure=outside
        )
    )

    # the reason the docs give: a state of the iteration cannot lead to a state outside it
    with pytest.raises(RuntimeError, match="Every state can only be used in one graph"):
        sfn.StateMachine(stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(models.next(outside)))


@pytest.mark.parametrize(("max_concurrency", "shown"), [(2, "up to 2 iterations"), (0, "unlimited")])
def test_a_map_running_more_promotions_than_the_reserved_concurrency_is_warned_of(max_concurrency, shown):
    stack = bare_stack()
    _map_of_promotions(stack, make_promote_model(stack, reserved_concurrency=1), max_concurrency=max_concurrency)

    [warning] = _warnings(stack, "reserved_concurrency=1")
    assert shown in warning.entry.data
    assert warning.id.endswith("/PromoteEachModel")


def test_a_map_is_not_warned_of_when_the_concurrency_is_unreserved():
    stack = bare_stack()
    _map_of_promotions(stack, make_promote_model(stack, reserved_concurrency=None), max_concurrency=5)

    assert _warnings(stack, "reserved_concurrency") == []


# --- grants and keys --------------------------------------------------------------------------------


def _decrypt_resources(template: dict[str, Any]) -> list[Any]:
    return [
        s["Resource"]
        for p in resources(template, "AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if "kms:Decrypt" in s["Action"]
    ]


def test_an_imported_secret_carrying_its_key_gets_decrypt_on_that_key():
    stack = bare_stack()
    key = kms.Key.from_key_arn(stack, "SecretKey", KEY_ARN)
    secret = secretsmanager.Secret.from_secret_attributes(
        stack, "Secret", secret_complete_arn=SECRET_ARN, encryption_key=key
    )

    make_promote_model(stack, auth=MlflowAuth.token(secret))

    assert KEY_ARN in _decrypt_resources(Template.from_stack(stack).to_json())


def test_a_secret_imported_by_arn_gets_decrypt_on_the_key_given_with_it():
    stack = bare_stack()
    secret = secretsmanager.Secret.from_secret_complete_arn(stack, "Secret", SECRET_ARN)
    key = kms.Key.from_key_arn(stack, "SecretKey", KEY_ARN)

    make_promote_model(stack, auth=MlflowAuth.basic(secret, encryption_key=key))

    assert KEY_ARN in _decrypt_resources(Template.from_stack(stack).to_json())


def _key_policy_sids(template: dict[str, Any], key_id: str) -> set[str]:
    statements = template["Resources"][key_id]["Properties"]["KeyPolicy"]["Statement"]
    return {s.get("Sid", "") for s in statements}


def test_a_key_of_this_app_given_to_the_construct_gets_the_statements_logs_and_alarms_need():
    stack = bare_stack()
    key = kms.Key(stack, "TeamKey")
    topic_key = kms.Key(stack, "TopicKey")
    topic = sns.Topic(stack, "TeamTopic", master_key=topic_key)

    make_promote_model(stack, encryption_key=key, alert_topic=topic)
    template = Template.from_stack(stack).to_json()

    key_id, topic_key_id = (
        stack.get_logical_id(key.node.default_child),
        stack.get_logical_id(topic_key.node.default_child),
    )
    assert {"AllowCloudWatchLogsOfThisAccount", "AllowCloudWatchAlarmsToPublish"} <= _key_policy_sids(template, key_id)
    assert "AllowCloudWatchAlarmsToPublish" in _key_policy_sids(template, topic_key_id)
    assert _warnings(stack, "imported key") == []


def test_an_imported_key_is_warned_of_naming_each_statement_its_policy_needs():
    stack = bare_stack()

    make_promote_model(stack, encryption_key=kms.Key.from_key_arn(stack, "TeamKey", KEY_ARN))

    [warning] = _warnings(stack, "imported key")
    assert KEY_ARN in warning.entry.data
    assert "AllowCloudWatchLogsOfThisAccount" in warning.entry.data
    assert "AllowCloudWatchAlarmsToPublish" in warning.entry.data


# --- the "done when" ------------------------------------------------------------------------


def test_an_app_of_tokens_two_functions_a_map_rules_alarms_and_a_dashboard_synthesizes_with_one_layer():
    stack = bare_stack()
    uri = CfnParameter(stack, "TrackingUri", type="String").value_as_string
    ranker = make_promote_model(stack, "Ranker", tracking_uri=uri, auth=MlflowAuth.basic())
    forecaster = make_promote_model(stack, "Forecaster", tracking_uri=uri, auth=MlflowAuth.basic())
    machine = _map_of_promotions(stack, ranker, max_concurrency=1)
    ranker.on_promoted("RankerPromoted", target=targets.SqsQueue(sqs.Queue(stack, "Deployments")))
    ranker.metric_errors().create_alarm(stack, "RankerErrors", threshold=1, evaluation_periods=1)
    forecaster.metric_not_promoted(reason_code="NO_STAGING_VERSION").create_alarm(
        stack, "ForecasterRejected", threshold=3, evaluation_periods=1
    )
    PromotionDashboard(stack, "Dashboard", functions=[ranker, forecaster], state_machine=machine)

    template = Template.from_stack(stack).to_json()

    assert len(resources(template, "AWS::Lambda::LayerVersion")) == 1
    assert len(resources(template, "AWS::Lambda::Function")) == 2
    assert len(resources(template, "AWS::Events::Rule")) == 1
    assert len(resources(template, "AWS::CloudWatch::Dashboard")) == 1
    with pytest.raises(ValueError, match="model_name=''"):
        ranker.fragment(
            stack, "Empty", on_not_promoted=sfn.Pass(stack, "A"), on_failure=sfn.Pass(stack, "B"), model_name=""
        )
