"""MLflow's own webhooks start promotions: a real MLflow 3 server delivers to the receiver behind a
loopback Function URL, which starts executions in moto's Step Functions.

Every delivery is counted at the Function URL, so "nothing started" is checked after the delivery
that could have started something was answered, never after a sleep.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import boto3
from mlflow.tracking import MlflowClient

from devtools.local.function_url import Delivery
from promote_model.webhook_signature import sign
from tests.support import S3_SOURCE, log_records, unique_model_name
from tests.webhook.conftest import Receiver

DELIVERY_TIMEOUT_SECONDS = 30.0


def _model_with_versions(client: MlflowClient, count: int) -> str:
    name = unique_model_name("WebhookStrategy")
    client.create_registered_model(name)
    for _ in range(count):
        client.create_model_version(name, S3_SOURCE)
    return name


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _signed_headers(secret: str, body: bytes, *, delivery_id: str | None = None, timestamp: int | None = None):
    delivery_id = delivery_id or str(uuid.uuid4())
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    return {
        "Content-Type": "application/json",
        "X-MLflow-Delivery-Id": delivery_id,
        "X-MLflow-Timestamp": stamp,
        "X-MLflow-Signature": sign(secret, delivery_id, stamp, body),
    }


def _alias_event(name: str, version: str, alias: str = "challenger") -> bytes:
    return json.dumps(
        {
            "entity": "model_version_alias",
            "action": "created",
            "timestamp": "2026-12-02T02:00:00+00:00",
            "data": {"name": name, "alias": alias, "version": version},
        }
    ).encode()


def _alias_delivery(receiver: Receiver, client: MlflowClient, name: str, version: str) -> Delivery:
    """Set the challenger alias and return MLflow's delivery of it (after the model's own events)."""
    before = len(receiver.function_url.deliveries)
    client.set_registered_model_alias(name, "challenger", version)
    deliveries = receiver.function_url.wait_for_deliveries(before + 1, timeout=DELIVERY_TIMEOUT_SECONDS)
    [delivery] = [d for d in deliveries[before:] if json.loads(d.body)["entity"] == "model_version_alias"]
    return delivery


def _wait_for_model_events(receiver: Receiver, count: int) -> None:
    """The model_version.created deliveries of a fresh model, so later counts start after them."""
    receiver.function_url.wait_for_deliveries(count, timeout=DELIVERY_TIMEOUT_SECONDS)


def test_setting_the_challenger_alias_starts_exactly_one_promotion_of_that_version(receiver, webhook_client):
    name = _model_with_versions(webhook_client, 2)
    _wait_for_model_events(receiver, 2)

    delivery = _alias_delivery(receiver, webhook_client, name, "2")
    # another registry event, answered after the alias's: anything the alias could still start has started
    webhook_client.set_registered_model_alias(name, "shadow", "1")
    receiver.function_url.wait_for_deliveries(4, timeout=DELIVERY_TIMEOUT_SECONDS)

    assert delivery.status == 202
    [execution] = receiver.executions()
    delivery_id = delivery.headers["x-mlflow-delivery-id"]
    assert execution["name"] == f"mlflow-{delivery_id}"
    execution_input = json.loads(execution["input"])
    assert execution_input["model_name"] == name
    assert execution_input["challenger_version"] == "2"
    assert execution_input["trigger"]["delivery_id"] == delivery_id
    assert execution_input["trigger"]["entity"] == "model_version_alias"
    assert execution_input["trigger"]["action"] == "created"
    assert execution_input["trigger"]["alias"] == "challenger"
    assert [d.status for d in receiver.function_url.deliveries] == [200, 200, 202, 200]


def test_each_alias_change_starts_its_own_promotion(receiver, webhook_client):
    name = _model_with_versions(webhook_client, 2)
    _wait_for_model_events(receiver, 2)

    _alias_delivery(receiver, webhook_client, name, "1")
    _alias_delivery(receiver, webhook_client, name, "2")

    versions = sorted(json.loads(e["input"])["challenger_version"] for e in receiver.executions())
    assert versions == ["1", "2"]


def test_a_replayed_delivery_starts_no_second_execution(receiver, webhook_client):
    name = _model_with_versions(webhook_client, 1)
    _wait_for_model_events(receiver, 1)
    delivery = _alias_delivery(receiver, webhook_client, name, "1")
    [first] = receiver.executions()

    # exactly what MLflow sent, sent again (a retry, or an attacker replaying within the 5 minutes)
    status, answer = _post(receiver.url, delivery.body, delivery.headers)

    assert status in (200, 202)  # Step Functions answers a running duplicate with the same execution
    assert answer["execution_name"] == first["name"]
    assert [e["executionArn"] for e in receiver.executions()] == [first["executionArn"]]


def test_a_replay_after_the_execution_ended_is_acknowledged_as_already_started(receiver, webhook_client):
    name = _model_with_versions(webhook_client, 1)
    _wait_for_model_events(receiver, 1)
    delivery = _alias_delivery(receiver, webhook_client, name, "1")
    [first] = receiver.executions()
    boto3.client("stepfunctions").stop_execution(executionArn=first["executionArn"])

    status, answer = _post(receiver.url, delivery.body, delivery.headers)

    assert (status, answer["outcome"]) == (200, "already_started")
    assert len(receiver.executions()) == 1


def test_a_delivery_signed_with_another_secret_is_refused(receiver, webhook_client):
    name = _model_with_versions(webhook_client, 1)
    body = _alias_event(name, "1")

    status, answer = _post(receiver.url, body, _signed_headers("not-the-secret", body))

    assert (status, answer["outcome"]) == (401, "rejected")
    assert receiver.executions() == []


def test_a_tampered_delivery_is_refused(receiver, webhook_client):
    name = _model_with_versions(webhook_client, 2)
    _wait_for_model_events(receiver, 2)
    delivery = _alias_delivery(receiver, webhook_client, name, "1")
    tampered = delivery.body.replace(b'"version": "1"', b'"version": "2"')
    assert tampered != delivery.body

    status, _ = _post(receiver.url, tampered, delivery.headers)
    other_id = {**delivery.headers, "x-mlflow-delivery-id": str(uuid.uuid4())}
    status_with_new_id, _ = _post(receiver.url, delivery.body, other_id)

    assert (status, status_with_new_id) == (401, 401)
    assert [json.loads(e["input"])["challenger_version"] for e in receiver.executions()] == ["1"]


def test_a_stale_or_future_delivery_is_refused_even_when_correctly_signed(receiver, webhook_client):
    name = _model_with_versions(webhook_client, 1)
    body = _alias_event(name, "1")
    now = int(time.time())

    stale, _ = _post(receiver.url, body, _signed_headers(receiver.secret, body, timestamp=now - 301))
    # 330, not 301: the handler's clock has moved on by the time it checks (a slow machine, seconds)
    future, _ = _post(receiver.url, body, _signed_headers(receiver.secret, body, timestamp=now + 330))
    fresh, _ = _post(receiver.url, body, _signed_headers(receiver.secret, body, timestamp=now - 30))

    assert (stale, future, fresh) == (401, 401, 202)
    assert len(receiver.executions()) == 1


def test_missing_or_malformed_signature_headers_are_refused(receiver, webhook_client):
    name = _model_with_versions(webhook_client, 1)
    body = _alias_event(name, "1")
    good = _signed_headers(receiver.secret, body)
    variants = [
        {k: v for k, v in good.items() if k != "X-MLflow-Signature"},
        {k: v for k, v in good.items() if k != "X-MLflow-Timestamp"},
        {k: v for k, v in good.items() if k != "X-MLflow-Delivery-Id"},
        {**good, "X-MLflow-Signature": "v1,not base64!"},
        {**good, "X-MLflow-Signature": "v1,c2hvcnQ="},  # base64, but not a SHA-256
        {**good, "X-MLflow-Signature": good["X-MLflow-Signature"].replace("v1,", "v2,")},
        {**good, "X-MLflow-Timestamp": "yesterday"},
    ]

    statuses = [_post(receiver.url, body, headers)[0] for headers in variants]

    assert statuses == [401] * len(variants)
    assert receiver.executions() == []


def test_a_signed_body_that_is_not_json_is_a_bad_request_and_starts_nothing(receiver):
    body = b"{not json"

    status, answer = _post(receiver.url, body, _signed_headers(receiver.secret, body))

    assert (status, answer["outcome"]) == (400, "rejected")
    assert receiver.executions() == []


def test_other_events_are_acknowledged_and_ignored(receiver, webhook_client):
    name = _model_with_versions(webhook_client, 1)
    webhook_client.set_registered_model_alias(name, "champion", "1")
    webhook_client.set_model_version_tag(name, "1", "promote", "no")

    deliveries = receiver.function_url.wait_for_deliveries(3, timeout=DELIVERY_TIMEOUT_SECONDS)

    assert sorted(json.loads(d.body)["entity"] for d in deliveries) == [
        "model_version",
        "model_version_alias",
        "model_version_tag",
    ]
    assert [d.status for d in deliveries] == [200, 200, 200]
    assert receiver.executions() == []


def test_setting_the_trigger_tag_starts_a_promotion(receiver, webhook_client):
    name = _model_with_versions(webhook_client, 1)
    _wait_for_model_events(receiver, 1)

    webhook_client.set_model_version_tag(name, "1", "promote", "yes")
    [_, delivery] = receiver.function_url.wait_for_deliveries(2, timeout=DELIVERY_TIMEOUT_SECONDS)

    assert delivery.status == 202
    [execution] = receiver.executions()
    execution_input = json.loads(execution["input"])
    assert (execution_input["model_name"], execution_input["challenger_version"]) == (name, "1")
    assert execution_input["trigger"]["tag"] == {"key": "promote", "value": "yes"}


def test_a_base64_encoded_body_is_verified_on_its_bytes(receiver, webhook_client):
    name = _model_with_versions(webhook_client, 1)
    body = _alias_event(name, "1")
    headers = {**_signed_headers(receiver.secret, body), "Content-Type": "application/octet-stream"}

    status, _ = _post(receiver.url, body, headers)

    assert status == 202  # the adapter passed it base64-encoded, as a Function URL does binary types
    assert len(receiver.executions()) == 1


def test_the_secret_is_in_no_answer_and_no_log_line(receiver, webhook_client, log_output):
    name = _model_with_versions(webhook_client, 1)
    body = _alias_event(name, "1")
    answers = [
        _post(receiver.url, body, _signed_headers(receiver.secret, body)),
        _post(receiver.url, body, _signed_headers("wrong", body)),
        _post(receiver.url, b"[]", _signed_headers(receiver.secret, b"[]")),
    ]

    text = json.dumps(answers) + log_output.getvalue()
    assert [status for status, _ in answers] == [202, 401, 400]
    assert receiver.secret not in text
    assert {r["message"] for r in log_records(log_output)} == {"webhook delivery"}


def test_an_unreadable_secret_is_a_server_error_and_starts_nothing(receiver, webhook_client, monkeypatch):
    from promote_model import webhook

    monkeypatch.setenv("WEBHOOK_SECRET_ARN", receiver.secret_arn + "-gone")
    webhook.reset()
    name = _model_with_versions(webhook_client, 1)
    body = _alias_event(name, "1")

    status, answer = _post(receiver.url, body, _signed_headers(receiver.secret, body))

    assert (status, answer["reason"]) == (500, "the receiver is misconfigured (see its log)")
    assert receiver.executions() == []


def test_during_a_secret_rotation_both_secrets_verify(receiver, webhook_client):
    from promote_model import webhook

    new_secret = f"whsec-{uuid.uuid4().hex}"
    # step 1 of docs/webhooks.md: the receiver's secret holds the new one and the old one
    boto3.client("secretsmanager").put_secret_value(
        SecretId=receiver.secret_arn, SecretString=f"{new_secret}\n{receiver.secret}"
    )
    webhook.reset()  # a fresh environment; a warm one picks the change up within 5 minutes
    name = _model_with_versions(webhook_client, 2)
    _wait_for_model_events(receiver, 2)
    signed_with_old = _alias_delivery(receiver, webhook_client, name, "1")
    # step 2: MLflow signs with the new one
    webhook_client.update_webhook(receiver.webhook_id, secret=new_secret)
    signed_with_new = _alias_delivery(receiver, webhook_client, name, "2")

    assert (signed_with_old.status, signed_with_new.status) == (202, 202)
    assert len(receiver.executions()) == 2


def test_the_documented_rest_call_registers_a_webhook_that_delivers(receiver, webhook_client, webhook_mlflow_url):
    # the call of docs/webhooks.md, on MLflow's REST API instead of MlflowClient.create_webhook
    registration = {
        "name": f"promote-model-rest-{uuid.uuid4().hex[:8]}",
        "url": receiver.url,
        # the proto's enum names: lower-case ones are read as unspecified and answered 500
        "events": [{"entity": "MODEL_VERSION_ALIAS", "action": "CREATED"}],
        "secret": receiver.secret,
    }
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{webhook_mlflow_url}/api/2.0/mlflow/webhooks",
        data=json.dumps(registration).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        registered = json.loads(response.read())["webhook"]
    webhook_client.delete_webhook(receiver.webhook_id)
    receiver.webhook_id = registered["webhook_id"]
    name = _model_with_versions(webhook_client, 1)  # model_version.created: not subscribed here

    delivery = _alias_delivery(receiver, webhook_client, name, "1")

    assert delivery.status == 202
    assert len(receiver.function_url.deliveries) == 1
    assert len(receiver.executions()) == 1


def test_mlflows_test_delivery_proves_the_url_and_secret_and_starts_nothing(receiver, webhook_client):
    result = webhook_client.test_webhook(receiver.webhook_id, event="model_version_alias.created")

    assert (result.success, result.response_status) == (True, 200)
    assert json.loads(result.response_body)["outcome"] == "ignored"
    assert receiver.executions() == []


def test_mlflows_retry_after_a_throttled_delivery_starts_it_once(receiver, webhook_client):
    name = _model_with_versions(webhook_client, 1)
    _wait_for_model_events(receiver, 1)
    receiver.function_url.faults.throttle = 1  # simulated: Lambda's 429 when the reserved concurrency is used up

    webhook_client.set_registered_model_alias(name, "challenger", "1")
    throttled, retried = receiver.function_url.wait_for_deliveries(3, timeout=DELIVERY_TIMEOUT_SECONDS)[1:]

    assert (throttled.status, retried.status) == (429, 202)
    assert throttled.headers["x-mlflow-delivery-id"] == retried.headers["x-mlflow-delivery-id"]
    assert len(receiver.executions()) == 1


def test_mlflows_retry_after_a_lost_answer_starts_no_second_execution(receiver, webhook_client):
    name = _model_with_versions(webhook_client, 1)
    _wait_for_model_events(receiver, 1)
    # simulated: the execution started, then the answer was lost (a timeout or dropped connection)
    receiver.function_url.faults.lose_answers = 1

    webhook_client.set_registered_model_alias(name, "challenger", "1")
    lost, retried = receiver.function_url.wait_for_deliveries(3, timeout=DELIVERY_TIMEOUT_SECONDS)[1:]

    assert (lost.status, retried.status) == (502, 202)  # 202: Step Functions returned the running execution
    assert lost.headers["x-mlflow-delivery-id"] == retried.headers["x-mlflow-delivery-id"]
    assert len(receiver.executions()) == 1


def test_an_unreachable_step_functions_is_a_retryable_503_within_seconds(receiver, webhook_client, monkeypatch):
    from devtools.local.servers import free_port
    from promote_model import webhook

    monkeypatch.setenv("AWS_ENDPOINT_URL_SFN", f"http://127.0.0.1:{free_port()}")
    webhook.reset()
    name = _model_with_versions(webhook_client, 1)
    body = _alias_event(name, "1")

    started = time.monotonic()
    status, answer = _post(receiver.url, body, _signed_headers(receiver.secret, body))

    assert (status, answer["outcome"]) == (503, "error")
    assert time.monotonic() - started < 10
    monkeypatch.delenv("AWS_ENDPOINT_URL_SFN")
    webhook.reset()
    assert receiver.executions() == []


def test_a_missing_state_machine_is_a_500_naming_the_refusal(receiver, webhook_client, monkeypatch):
    from promote_model import webhook

    monkeypatch.setenv("STATE_MACHINE_ARN", receiver.state_machine_arn + "-gone")
    webhook.reset()
    name = _model_with_versions(webhook_client, 1)
    body = _alias_event(name, "1")

    status, answer = _post(receiver.url, body, _signed_headers(receiver.secret, body))

    assert (status, answer["reason"]) == (500, "Step Functions refused: StateMachineDoesNotExist")
    assert receiver.executions() == []


def test_anything_but_a_post_is_refused(receiver):
    request = urllib.request.Request(receiver.url, method="GET")  # noqa: S310 - loopback
    try:
        urllib.request.urlopen(request, timeout=10)  # noqa: S310
        status = 200
    except urllib.error.HTTPError as error:
        status = error.code

    assert status == 405
    assert receiver.executions() == []
