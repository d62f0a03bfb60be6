"""Faults of SNS, EventBridge and Secrets Manager, each behind its own fault proxy in front of moto.

Every case asserts the first answer (named, inside the deadline), then one clean retry of the same
event (as the fragment's Retry sends it), then the final state: one champion, the alias on it, the
audit trail complete, at least one notification and one ``promoted`` event delivered (counted through
the SQS queue subscribed to the topic and a rule on the bus that feeds another queue).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from devtools.local.fault_proxy import DROP_AFTER_FORWARD, REWRITE, STALL, FaultProxy, aws_error, fault_proxy
from devtools.local.servers import free_port
from promote_model import credentials
from promote_model.errors import (
    ConfigurationError,
    CredentialsUnavailableError,
    PromotionError,
    PromotionIncompleteError,
    RegistryResponseError,
    RegistryUnavailableError,
)
from tests.reliability.conftest import timed
from tests.support import invoke, log_records, received_notifications, register_model, stages

REPO = Path(__file__).resolve().parents[2]
REFUSED = "refused"  # the service's endpoint is a closed port: no proxy in the way
SNS_FAULTS = {
    "500": aws_error("query", "InternalError", 500),
    "throttling": aws_error("query", "Throttling", 400),
    "403": aws_error("query", "AuthorizationError", 403),
    "stall": {"mode": STALL},
    "answer lost": {"mode": DROP_AFTER_FORWARD},
    REFUSED: {},
}
FAILED_ENTRY = {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "injected"}]}
EVENTS_FAULTS = {
    "500": aws_error("json", "InternalException", 500),
    "throttling": aws_error("json", "ThrottlingException", 400),
    "403": aws_error("json", "AccessDeniedException", 403),
    "FailedEntryCount 1": {"mode": REWRITE, "rewrite": lambda _: FAILED_ENTRY},
    "stall": {"mode": STALL},
    "answer lost": {"mode": DROP_AFTER_FORWARD},
    REFUSED: {},
}
# The error code each SNS fault's warning names (stall: botocore's read timeout or the deadline).
SNS_CODES = {
    "500": {"InternalError"},
    "throttling": {"Throttling"},
    "403": {"AuthorizationError"},
    "stall": {"ReadTimeoutError", "DeadlineExceeded"},
    "answer lost": {"ConnectionClosedError"},
    REFUSED: {"EndpointConnectionError"},
}


@pytest.fixture(scope="session")
def aws_proxies(moto) -> Iterator[dict[str, FaultProxy]]:
    with fault_proxy(moto.url) as sns, fault_proxy(moto.url) as events, fault_proxy(moto.url) as secrets:
        yield {"sns": sns, "events": events, "secrets": secrets}


@pytest.fixture
def aws_env(lambda_env, aws_proxies) -> Iterator[pytest.MonkeyPatch]:
    """The function's settings with SNS, EventBridge and Secrets Manager reached through their proxies."""
    for proxy in aws_proxies.values():
        proxy.clear()
    lambda_env.setenv("AWS_ENDPOINT_URL_SNS", aws_proxies["sns"].url)
    lambda_env.setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", aws_proxies["events"].url)
    lambda_env.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", aws_proxies["secrets"].url)
    credentials._secrets_provider.cache_clear()
    yield lambda_env
    for proxy in aws_proxies.values():
        proxy.clear()
    credentials._secrets_provider.cache_clear()


def _moto_client(moto, service: str) -> Any:
    return boto3.client(service, endpoint_url=moto.url)


def _promoted_events_queue(moto, name: str) -> str:
    """An SQS queue fed by a rule on the default bus that matches this model's ``promoted`` events."""
    sqs, events = _moto_client(moto, "sqs"), _moto_client(moto, "events")
    suffix = uuid.uuid4().hex[:8]
    queue_url = sqs.create_queue(QueueName=f"promoted-events-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {"source": ["promote-model"], "detail": {"model_name": [name], "outcome": ["promoted"]}}
    events.put_rule(Name=f"promoted-{suffix}", EventPattern=json.dumps(pattern))
    events.put_targets(Rule=f"promoted-{suffix}", Targets=[{"Id": "queue", "Arn": queue_arn}])
    return queue_url


def _received_events(moto, queue_url: str) -> list[dict[str, Any]]:
    sqs = _moto_client(moto, "sqs")
    found = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return found


def _inject(env: pytest.MonkeyPatch, proxies: dict[str, FaultProxy], service: str, fault: dict[str, Any]) -> None:
    if not fault:  # refused: the service's endpoint is a closed port
        variable = {"sns": "AWS_ENDPOINT_URL_SNS", "events": "AWS_ENDPOINT_URL_EVENTBRIDGE"}[service]
        env.setenv(variable, f"http://127.0.0.1:{free_port()}")
        return
    proxies[service].inject("/", **fault)


def _heal(env: pytest.MonkeyPatch, proxies: dict[str, FaultProxy]) -> None:
    for proxy in proxies.values():
        proxy.clear()
    env.setenv("AWS_ENDPOINT_URL_SNS", proxies["sns"].url)
    env.setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", proxies["events"].url)


def _assert_finished(mlflow_client, sqs, moto, alert_topic, name: str, events_queue: str) -> None:
    assert stages(mlflow_client, name) == {"1": "Archived", "2": "Production"}
    version = mlflow_client.get_model_version(name, "2")
    assert "champion" in version.aliases
    assert {"promoted_at", "previous_version", "promoted_by", "execution_id"} <= set(version.tags)
    assert mlflow_client.get_model_version(name, "1").tags["superseded_by"] == "2"
    assert len(received_notifications(sqs, alert_topic.queue_url, wait_seconds=1)) >= 1
    assert len(_received_events(moto, events_queue)) >= 1


def _event(name: str) -> dict[str, Any]:
    return {"model_name": name, "new_version": "2", "execution_id": f"arn:aws:states:::execution:wf:{name}"}


MATRIX = [("sns", fault) for fault in SNS_FAULTS] + [("events", fault) for fault in EVENTS_FAULTS]


@pytest.mark.parametrize(("service", "fault_name"), MATRIX)
def test_a_failed_notification_or_event_is_delivered_by_the_retry(
    aws_env, aws_proxies, mlflow_client, alert_topic, sqs, moto, log_output, record_aws_fault, service, fault_name
):
    faults = SNS_FAULTS if service == "sns" else EVENTS_FAULTS
    name = register_model(mlflow_client, ["Production", "Staging"])
    events_queue = _promoted_events_queue(moto, name)
    _inject(aws_env, aws_proxies, service, faults[fault_name])

    _, error, seconds = timed(lambda: invoke(_event(name), timeout_seconds=20))
    _heal(aws_env, aws_proxies)
    retry = invoke(_event(name))
    again = invoke(_event(name))

    assert isinstance(error, PromotionIncompleteError), error
    assert ("the notification" if service == "sns" else "the promoted event") in str(error)
    assert seconds < 19  # Lambda (20 s) would not have killed it
    assert (retry["promoted"], retry["already_promoted"]) == (True, False)
    assert (retry["notification_sent"], retry["event_sent"], retry["alias"]) == (True, True, "champion")
    assert (again["promoted"], again["already_promoted"]) == (True, True)
    _assert_finished(mlflow_client, sqs, moto, alert_topic, name, events_queue)
    warnings = [r for r in log_records(log_output) if r.get("level") == "WARNING" and "aws_service" in r]
    operation = "Publish" if service == "sns" else "PutEvents"
    assert any(r["aws_service"] == service and r["aws_operation"] == operation for r in warnings), warnings
    if service == "sns":
        assert {r["aws_error_code"] for r in warnings if r["aws_service"] == "sns"} & SNS_CODES[fault_name]
    record_aws_fault(
        "SNS Publish" if service == "sns" else "EventBridge PutEvents",
        f"{fault_name} (20 s timeout)",
        "`PromotionIncompleteError` (retryable)",
        "delivered, `promoted_at` written; a further retry answers `already_promoted`",
        seconds,
    )


@pytest.mark.parametrize("service", ["sns", "events"])
def test_a_kill_mid_call_leaves_the_promotion_for_the_retry_to_finish(
    aws_env, aws_proxies, mlflow_client, alert_topic, sqs, moto, record_aws_fault, service
):
    name = register_model(mlflow_client, ["Production", "Staging"])
    events_queue = _promoted_events_queue(moto, name)
    aws_proxies[service].inject("/", STALL)
    probe = subprocess.Popen(
        [sys.executable, "-m", "devtools.local.handler_probe", json.dumps(_event(name))],
        cwd=REPO,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        in_flight = aws_proxies[service].wait_for(STALL, timeout=60)
    finally:
        probe.send_signal(signal.SIGKILL)  # Lambda's timeout or an out-of-memory kill: no cleanup runs
        probe.wait(timeout=10)
    _heal(aws_env, aws_proxies)

    retry, error, seconds = timed(lambda: invoke(_event(name)))

    assert in_flight
    assert error is None
    assert (retry["promoted"], retry["already_promoted"], retry["notification_sent"]) == (True, False, True)
    assert retry["event_sent"] is True
    _assert_finished(mlflow_client, sqs, moto, alert_topic, name, events_queue)
    record_aws_fault(
        "SNS Publish" if service == "sns" else "EventBridge PutEvents",
        "handler process killed mid-call",
        "none (killed)",
        f"delivered, `promoted_at` written (retry answered in {seconds:.2f} s)",
        seconds,
    )


def test_sns_and_events_stalling_with_20_seconds_left_answer_in_time(aws_env, aws_proxies, mlflow_client, record_fault):
    name = register_model(mlflow_client, ["Production", "Staging"])
    aws_proxies["sns"].inject("/", STALL)
    aws_proxies["events"].inject("/", STALL)

    _, error, seconds = timed(lambda: invoke(_event(name), timeout_seconds=20))

    assert isinstance(error, PromotionIncompleteError)
    assert seconds <= 19
    record_fault("SNS and PutEvents stall, 20 s left", "`PromotionIncompleteError`", "v2 Production", seconds)


def test_verification_sns_and_events_stalling_answer_within_25_seconds(
    aws_env, aws_proxies, proxy, mlflow_client, record_fault
):
    aws_env.setenv("MLFLOW_TRACKING_URI", proxy.url)
    proxy.clear()
    name = register_model(mlflow_client, ["Production", "Staging"])
    proxy.inject("/model-versions/search", STALL)
    aws_proxies["sns"].inject("/", STALL)
    aws_proxies["events"].inject("/", STALL)

    _, error, seconds = timed(lambda: invoke(_event(name), timeout_seconds=60))
    proxy.clear()

    # never "promoted: true" while something promised is missing
    assert isinstance(error, PromotionIncompleteError)
    assert seconds <= 25
    record_fault(
        "MLflow's verification read, SNS and PutEvents stall, 60 s left",
        "`PromotionIncompleteError` (retryable)",
        "v2 Production",
        seconds,
    )


@pytest.mark.parametrize(
    "stalled",
    [
        ("/model-versions/search", "sns", "events"),
        ("transition answer lost", "/model-versions/get", "sns", "events"),
        ("/model-versions/get", "sns"),
    ],
    ids=["verification+sns+events", "lost-transition+read-back+sns+events", "first-read+sns"],
)
def test_any_combination_of_stalls_answers_a_second_before_the_deadline(
    aws_env, aws_proxies, proxy, mlflow_client, record_fault, stalled
):
    aws_env.setenv("MLFLOW_TRACKING_URI", proxy.url)
    proxy.clear()
    name = register_model(mlflow_client, ["Production", "Staging"])
    for part in stalled:
        if part in aws_proxies:
            aws_proxies[part].inject("/", STALL)
        elif part == "transition answer lost":
            proxy.inject("/model-versions/transition-stage", DROP_AFTER_FORWARD)
        else:
            proxy.inject(part, STALL)

    _, error, seconds = timed(lambda: invoke(_event(name), timeout_seconds=12))
    proxy.clear()

    assert isinstance(error, PromotionError), error
    assert seconds <= 11  # Lambda (12 s) would not have killed it
    record_fault(f"stalled with 12 s left: {', '.join(stalled)}", f"`{type(error).__name__}`", "-", seconds)


@pytest.fixture
def hanging_resolver(monkeypatch) -> Iterator[None]:
    """``getaddrinfo`` hanging 45 s for hosts under ``hang.test``. A fake: a real resolver cannot be
    made to hang on loopback without changing the machine's resolver configuration."""
    real = socket.getaddrinfo
    release = threading.Event()

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".hang.test"):
            release.wait(45)
            raise socket.gaierror(socket.EAI_AGAIN, "resolver timed out")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield
    release.set()


def test_a_hanging_resolver_for_mlflow_is_bounded(aws_env, hanging_resolver, record_fault):
    aws_env.setenv("MLFLOW_TRACKING_URI", "http://mlflow.hang.test:5000")

    _, error, seconds = timed(lambda: invoke({"model_name": "PascalStrategy"}, timeout_seconds=60))

    assert isinstance(error, RegistryUnavailableError)
    assert seconds < 25
    record_fault("the resolver hangs 45 s for MLflow's host", "`RegistryUnavailableError`", "untouched", seconds)


def test_a_hanging_resolver_for_sns_is_bounded(aws_env, aws_proxies, hanging_resolver, mlflow_client, record_fault):
    port = aws_proxies["sns"].url.rsplit(":", 1)[1]
    aws_env.setenv("AWS_ENDPOINT_URL_SNS", f"http://sns.hang.test:{port}")
    name = register_model(mlflow_client, ["Production", "Staging"])

    _, error, seconds = timed(lambda: invoke(_event(name), timeout_seconds=20))

    assert isinstance(error, PromotionIncompleteError)
    assert seconds < 19
    record_fault(
        "the resolver hangs 45 s for SNS's host, 20 s left", "`PromotionIncompleteError`", "v2 Production", seconds
    )


def _secret(moto, **value: Any) -> str:
    name = f"mlflow-{uuid.uuid4().hex[:8]}"
    return _moto_client(moto, "secretsmanager").create_secret(Name=name, **value)["ARN"]


@pytest.mark.parametrize(
    ("fault_name", "fault"),
    [
        ("500", aws_error("json", "InternalServiceError", 500)),
        ("throttling", aws_error("json", "ThrottlingException", 400)),
        ("read timeout", {"mode": STALL}),
        (REFUSED, {}),
    ],
)
def test_a_transient_secrets_manager_failure_is_retryable(
    aws_env, aws_proxies, moto, mlflow_client, record_fault, fault_name, fault
):
    arn = _secret(moto, SecretString=json.dumps({"username": "svc", "password": "not-a-real-password-1"}))
    aws_env.setenv("MLFLOW_CREDENTIALS_SECRET_ARN", arn)
    name = register_model(mlflow_client, ["Production", "Staging"])
    if fault:
        aws_proxies["secrets"].inject("/", **fault)
    else:
        aws_env.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", f"http://127.0.0.1:{free_port()}")
        credentials._secrets_provider.cache_clear()

    _, error, seconds = timed(lambda: invoke({"model_name": name, "new_version": "2"}))
    aws_proxies["secrets"].clear()
    aws_env.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", aws_proxies["secrets"].url)
    credentials._secrets_provider.cache_clear()
    retry = invoke({"model_name": name, "new_version": "2"})

    assert isinstance(error, CredentialsUnavailableError), error
    assert "MLFLOW_CREDENTIALS_SECRET_ARN" in str(error)
    assert "not-a-real-password" not in str(error)
    assert seconds < 25
    assert retry["promoted"] is True
    record_fault(
        f"Secrets Manager: {fault_name}",
        "`CredentialsUnavailableError` (retryable); the retry promotes",
        "v2 Production after the retry",
        seconds,
    )


@pytest.mark.parametrize(
    ("fault_name", "fault"),
    [
        ("403", aws_error("json", "AccessDeniedException", 400)),
        ("KMS", aws_error("json", "DecryptionFailure", 400)),
        ("not found", aws_error("json", "ResourceNotFoundException", 400)),
    ],
)
def test_a_permanent_secrets_manager_failure_is_a_configuration_error(
    aws_env, aws_proxies, moto, record_fault, fault_name, fault
):
    aws_env.setenv("MLFLOW_CREDENTIALS_SECRET_ARN", _secret(moto, SecretString='{"username": "a", "password": "b"}'))
    aws_proxies["secrets"].inject("/", **fault)

    _, error, seconds = timed(lambda: invoke({"model_name": "PascalStrategy"}))

    assert isinstance(error, ConfigurationError), error
    record_fault(f"Secrets Manager: {fault_name}", "`ConfigurationError` (terminal)", "untouched", seconds)


def test_a_secret_binary_that_is_not_utf8_is_a_configuration_error(aws_env, moto, record_fault):
    aws_env.setenv("MLFLOW_CREDENTIALS_SECRET_ARN", _secret(moto, SecretBinary=b"\xff\xfe\x00bad"))

    _, error, seconds = timed(lambda: invoke({"model_name": "PascalStrategy"}))

    assert isinstance(error, ConfigurationError), error
    record_fault("a `SecretBinary` that is not UTF-8", "`ConfigurationError` (malformed)", "untouched", seconds)


@pytest.mark.parametrize("route", ["/registered-models/get", "/model-versions/get"])
def test_a_404_that_is_not_mlflows_is_not_model_not_found(faulty_env, proxy, mlflow_client, record_fault, route):
    name = register_model(mlflow_client, ["Production", "Staging"])
    proxy.inject(route, "404", body=b"<html><body>404 Not Found</body></html>", headers={"Content-Type": "text/html"})
    event = {"model_name": name} if route.startswith("/registered") else {"model_name": name, "new_version": "2"}

    _, error, seconds = timed(lambda: invoke(event))

    assert isinstance(error, RegistryResponseError), error
    assert "does not answer like MLflow's REST API" in str(error)
    record_fault(
        f"a bare 404 (no MLflow body) on {route}", "`RegistryResponseError` naming the URL", "untouched", seconds
    )


def _raise_in_api_call(monkeypatch: pytest.MonkeyPatch, operation: str, error: BaseException) -> None:
    from botocore.client import BaseClient

    real = BaseClient._make_api_call

    def make_api_call(self, operation_name, api_params):
        if operation_name == operation:
            raise error
        return real(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", make_api_call)


@pytest.mark.parametrize(
    "boundary", ["mlflow request", "GetSecretValue", "Publish", "PutEvents", "SageMaker credentials"]
)
def test_no_builtin_exception_escapes_the_handler(aws_env, moto, mlflow_client, monkeypatch, boundary):
    """Each boundary raises a Python builtin exception, as a library bug or an unforeseen failure
    would (a fake by necessity: the real parts do not raise these on demand)."""
    name = register_model(mlflow_client, ["Production", "Staging"])
    if boundary == "mlflow request":
        import urllib3

        def request(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("unexpected")

        monkeypatch.setattr(urllib3.PoolManager, "request", request)
    elif boundary == "GetSecretValue":
        aws_env.setenv(
            "MLFLOW_CREDENTIALS_SECRET_ARN", _secret(moto, SecretString='{"username": "a", "password": "b"}')
        )
        _raise_in_api_call(monkeypatch, "GetSecretValue", KeyError("SecretString"))
    elif boundary == "SageMaker credentials":
        import botocore.credentials

        aws_env.setenv("MLFLOW_TRACKING_URI", "arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/x")
        aws_env.setenv("SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT", "http://127.0.0.1:9")
        monkeypatch.setattr(
            botocore.credentials.Credentials, "get_frozen_credentials", lambda self: 1 / 0, raising=False
        )
    else:
        _raise_in_api_call(monkeypatch, boundary, TypeError("unexpected"))

    _, error, _ = timed(lambda: invoke(_event(name)))

    assert error is None or isinstance(error, PromotionError), repr(error)
