"""The EventBridge event of every outcome, captured by a rule that targets an SQS queue (moto)."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
import pytest

from devtools.local.servers import free_port
from promote_model import handler
from promote_model.errors import RegistryUnavailableError
from tests.support import invoke, register_model

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:retraining:run-7"


@pytest.fixture
def event_queue(lambda_env, moto) -> str:
    """A fresh bus whose rule sends every promote-model event to a fresh queue; the function uses it."""
    events, sqs = boto3.client("events"), boto3.client("sqs")
    suffix = os.urandom(4).hex()
    bus = events.create_event_bus(Name=f"promotions-{suffix}")["EventBusArn"].rsplit("/", 1)[1]
    queue_url = sqs.create_queue(QueueName=f"promotion-events-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all", EventBusName=bus, EventPattern=json.dumps({"source": ["promote-model"]}))
    events.put_targets(Rule="all", EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue_arn}])
    lambda_env.setenv("EVENT_BUS_NAME", bus)
    lambda_env.setenv("ALERTS_ENABLED", "false")
    return queue_url


def _received(queue_url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    return [json.loads(message["Body"]) for message in answer.get("Messages", [])]


def test_a_promotion_emits_its_result_with_environment_and_execution(event_queue, mlflow_client):
    name = register_model(mlflow_client, ["Production", "Staging"])

    result = invoke({"model_name": name, "new_version": "2", "confidence": 0.9, "execution_id": EXECUTION})

    [event] = _received(event_queue)
    assert (event["source"], event["detail-type"]) == ("promote-model", "Model Promotion")
    detail = event["detail"]
    assert (detail["outcome"], detail["new_version"], detail["archived_version"]) == ("promoted", "2", "1")
    assert (detail["environment"], detail["execution_id"], detail["model_name"]) == ("prod", EXECUTION, name)
    assert result["event_sent"] is True


def test_already_promoted_and_not_promoted_emit_their_outcomes(event_queue, mlflow_client):
    name = register_model(mlflow_client, ["Production", "Staging"])

    invoke({"model_name": name, "new_version": "1"})
    invoke({"model_name": name, "new_version": "9"})

    outcomes = sorted((e["detail"]["outcome"], e["detail"].get("reason_code")) for e in _received(event_queue))
    assert outcomes == [("already_promoted", None), ("not_promoted", "VERSION_NOT_FOUND")]


def test_an_error_emits_its_type_before_it_is_raised(event_queue, lambda_env):
    lambda_env.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")
    handler.reset_runtime()

    with pytest.raises(RegistryUnavailableError):
        invoke({"model_name": "PascalStrategy", "execution_id": EXECUTION})

    [event] = _received(event_queue)
    assert (event["detail"]["outcome"], event["detail"]["error_type"]) == ("error", "RegistryUnavailableError")
    assert event["detail"]["execution_id"] == EXECUTION


def test_an_empty_bus_name_turns_events_off(event_queue, lambda_env, mlflow_client):
    lambda_env.setenv("EVENT_BUS_NAME", "")
    handler.reset_runtime()
    name = register_model(mlflow_client, ["Production", "Staging"])

    result = invoke({"model_name": name})

    assert (result["promoted"], result["event_sent"]) == (True, False)
    assert _received(event_queue) == []


def test_a_dry_run_emits_nothing(event_queue, mlflow_client):
    name = register_model(mlflow_client, ["Production", "Staging"])

    result = invoke({"model_name": name, "dry_run": True})

    assert result["event_sent"] is False
    assert _received(event_queue) == []
