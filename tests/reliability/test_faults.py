"""Faults of MLflow, Secrets Manager and SNS: a named outcome, an intact registry, an answer in time."""

from __future__ import annotations

import uuid

import boto3
import pytest

from devtools.local.fault_proxy import DROP_AFTER_FORWARD, STALL
from devtools.local.servers import free_port
from promote_model import handler
from promote_model.errors import (
    ConfigurationError,
    CredentialsUnavailableError,
    PromotionIncompleteError,
    RegistryUnavailableError,
)
from tests.reliability.conftest import timed
from tests.support import invoke, received_notifications, register_model, registry_state, stages

TRANSITION = "/model-versions/transition-stage"


def _describe(stage_map):
    return ", ".join(f"v{v} {s}" for v, s in sorted(stage_map.items(), key=lambda i: int(i[0])))


def test_registry_refusing_connections(lambda_env, mlflow_client, record_fault):
    lambda_env.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")

    _, error, seconds = timed(lambda: invoke({"model_name": "PascalStrategy", "new_version": "2"}))

    assert isinstance(error, RegistryUnavailableError)
    record_fault("MLflow refuses connections", "`RegistryUnavailableError` (4 attempts)", "untouched", seconds)


def test_registry_stalling(faulty_env, proxy, mlflow_client, record_fault):
    name = register_model(mlflow_client, ["Production", "Staging"])
    before = registry_state(mlflow_client, name)
    proxy.inject("/api/", STALL)

    _, error, seconds = timed(lambda: invoke({"model_name": name, "new_version": "2"}))

    assert isinstance(error, RegistryUnavailableError)
    proxy.clear()
    assert registry_state(mlflow_client, name) == before
    record_fault("MLflow accepts but never answers", "`RegistryUnavailableError` (read timeouts)", "unchanged", seconds)


@pytest.mark.parametrize("status", ["500", "503"])
def test_registry_answering_5xx(faulty_env, proxy, mlflow_client, record_fault, status):
    name = register_model(mlflow_client, ["Production", "Staging"])
    before = registry_state(mlflow_client, name)
    proxy.inject("/api/", status)

    _, error, seconds = timed(lambda: invoke({"model_name": name, "new_version": "2"}))

    assert isinstance(error, RegistryUnavailableError)
    assert f"HTTP {status}" in str(error)
    proxy.clear()
    assert registry_state(mlflow_client, name) == before
    record_fault(
        f"MLflow answers {status} to everything", "`RegistryUnavailableError` (4 attempts)", "unchanged", seconds
    )


def test_a_transient_5xx_on_a_read_is_retried(faulty_env, proxy, mlflow_client, record_fault):
    name = register_model(mlflow_client, ["Production", "Staging"])
    proxy.inject("/model-versions/get", "503", times=2)

    result, error, seconds = timed(lambda: invoke({"model_name": name, "new_version": "2"}))

    assert error is None
    assert result["promoted"] is True
    assert stages(mlflow_client, name) == {"1": "Archived", "2": "Production"}
    record_fault(
        "MLflow answers 503 twice to a read", "promoted (retried)", _describe(stages(mlflow_client, name)), seconds
    )


def test_a_5xx_on_the_transition_is_not_retried_blindly(faulty_env, proxy, mlflow_client, record_fault):
    name = register_model(mlflow_client, ["Production", "Staging"])
    proxy.inject(TRANSITION, "500", times=1)

    _, error, seconds = timed(lambda: invoke({"model_name": name, "new_version": "2"}))

    # the transition's effect is unknown, so the function reads back, finds nothing done, and says so
    assert isinstance(error, RegistryUnavailableError)
    assert stages(mlflow_client, name) == {"1": "Production", "2": "Staging"}
    record_fault(
        "MLflow answers 500 to the transition",
        "`RegistryUnavailableError` after reading back (Step Functions retries)",
        _describe(stages(mlflow_client, name)),
        seconds,
    )


def test_connection_dropped_after_the_transition_reached_mlflow(
    faulty_env, proxy, mlflow_client, alert_topic, sqs, record_fault
):
    name = register_model(mlflow_client, ["Production", "Staging"])
    proxy.inject(TRANSITION, DROP_AFTER_FORWARD, times=1)

    first, error, seconds = timed(lambda: invoke({"model_name": name, "new_version": "2"}))
    # Step Functions' retry of the same request
    retry = invoke({"model_name": name, "new_version": "2"})

    assert error is None
    assert (first["promoted"], first["already_promoted"], first["archived_version"]) == (True, False, "1")
    assert (retry["promoted"], retry["already_promoted"]) == (True, True)
    assert stages(mlflow_client, name) == {"1": "Archived", "2": "Production"}
    assert [w for w in proxy.writes() if w[1].endswith(TRANSITION)] == [("POST", "/api/2.0/mlflow" + TRANSITION)]
    assert len(received_notifications(sqs, alert_topic.queue_url, wait_seconds=1)) == 1  # exactly one notice
    record_fault(
        "connection dropped after MLflow applied the transition",
        "promoted (read back: it happened); the retry answers `already_promoted`",
        _describe(stages(mlflow_client, name)),
        seconds,
    )


def test_secrets_manager_unreachable(lambda_env, moto, record_fault):
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mlflow-AbCdEf"
    lambda_env.setenv("MLFLOW_CREDENTIALS_SECRET_ARN", arn)
    lambda_env.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", f"http://127.0.0.1:{free_port()}")
    from promote_model import credentials

    credentials._secrets_provider.cache_clear()
    try:
        _, error, seconds = timed(lambda: invoke({"model_name": "PascalStrategy"}))
    finally:
        credentials._secrets_provider.cache_clear()

    # a connection that fails may not fail again: retryable, unlike a missing or malformed secret
    assert isinstance(error, CredentialsUnavailableError)
    assert "MLFLOW_CREDENTIALS_SECRET_ARN" in str(error)
    record_fault(
        "Secrets Manager unreachable", "`CredentialsUnavailableError` naming the setting", "untouched", seconds
    )


@pytest.mark.parametrize(
    ("label", "secret"),
    [("missing", None), ("malformed", "{not json")],
)
def test_secret_missing_or_malformed(lambda_env, moto, record_fault, label, secret):
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:absent-AbCdEf"
    if secret is not None:
        arn = boto3.client("secretsmanager").create_secret(Name=f"bad-{uuid.uuid4().hex[:6]}", SecretString=secret)[
            "ARN"
        ]
    lambda_env.setenv("MLFLOW_CREDENTIALS_SECRET_ARN", arn)

    _, error, seconds = timed(lambda: invoke({"model_name": "PascalStrategy"}))

    assert isinstance(error, ConfigurationError)
    record_fault(f"credentials secret {label}", "`ConfigurationError` naming the setting", "untouched", seconds)


def test_sns_failing_after_a_successful_transition(lambda_env, mlflow_client, record_fault):
    lambda_env.setenv("AWS_ENDPOINT_URL_SNS", f"http://127.0.0.1:{free_port()}")
    handler.reset_runtime()
    name = register_model(mlflow_client, ["Production", "Staging"])

    result, error, seconds = timed(lambda: invoke({"model_name": name}))

    assert error is None
    assert (result["promoted"], result["notification_sent"]) == (True, False)
    assert stages(mlflow_client, name) == {"1": "Archived", "2": "Production"}
    record_fault(
        "SNS unreachable after the transition",
        "promoted, `notification_sent: false` (logged, `NotificationFailed` metric)",
        _describe(stages(mlflow_client, name)),
        seconds,
    )


def test_a_retry_finishes_a_promotion_whose_answer_and_read_back_were_lost(
    faulty_env, proxy, mlflow_client, alert_topic, sqs, record_fault
):
    name = register_model(mlflow_client, ["Production", "Staging"])
    event = {"model_name": name, "execution_id": f"arn:aws:states:us-east-1:123456789012:execution:wf:{name}"}
    proxy.inject(TRANSITION, DROP_AFTER_FORWARD, times=1)
    # the read-back that would tell what happened fails too (the first read is of the champion, v1)
    proxy.inject("/model-versions/get", "503", skip=1)

    _, error, seconds = timed(lambda: invoke(event))
    proxy.clear()
    # Step Functions retries the same execution's task, then (say) a Lambda service error retries it again
    retry = invoke(event)
    again = invoke(event)
    transitions = [path for method, path in proxy.take() if path.endswith(TRANSITION)]

    assert isinstance(error, RegistryUnavailableError)
    assert "not in Production" not in str(error)  # the read-back failed; nobody knows yet
    assert transitions == []  # the retries sent none: the first attempt's was applied
    assert (retry["promoted"], retry["already_promoted"], retry["archived_version"]) == (True, False, "1")
    assert (retry["alias"], retry["audit_tags_written"], retry["notification_sent"]) == ("champion", True, True)
    assert (again["promoted"], again["already_promoted"], again["notification_sent"]) == (True, True, False)
    assert stages(mlflow_client, name) == {"1": "Archived", "2": "Production"}
    tags = mlflow_client.get_model_version(name, "2").tags
    assert (tags["execution_id"], tags["previous_version"]) == (event["execution_id"], "1")
    assert "promoted_at" in tags
    assert mlflow_client.get_model_version(name, "1").tags["superseded_by"] == "2"
    assert len(received_notifications(sqs, alert_topic.queue_url, wait_seconds=1)) == 1  # once
    record_fault(
        "transition applied, its answer lost and the read-back failing",
        "`RegistryUnavailableError`; the retry of the same execution finishes alias, tags and notification once",
        _describe(stages(mlflow_client, name)),
        seconds,
    )


def test_another_executions_promotion_is_not_finished_by_this_one(faulty_env, proxy, mlflow_client, alert_topic, sqs):
    name = register_model(mlflow_client, ["Production", "Staging"])
    proxy.inject(TRANSITION, DROP_AFTER_FORWARD, times=1)
    proxy.inject("/model-versions/get", "503", skip=1)
    with pytest.raises(RegistryUnavailableError):
        invoke({"model_name": name, "execution_id": "execution-a"})
    proxy.clear()

    other = invoke({"model_name": name, "new_version": "2", "execution_id": "execution-b"})

    assert (other["promoted"], other["already_promoted"], other["notification_sent"]) == (True, True, False)
    assert "promoted_at" not in mlflow_client.get_model_version(name, "2").tags
    assert received_notifications(sqs, alert_topic.queue_url, wait_seconds=1) == []


def test_retry_after_on_429_is_honoured_within_the_budget(faulty_env, proxy, mlflow_client, record_fault):
    name = register_model(mlflow_client, ["Production", "Staging"])
    proxy.inject("/model-versions/get", "429", times=1, headers={"Retry-After": "2"})

    result, error, seconds = timed(lambda: invoke({"model_name": name, "new_version": "2"}))

    assert error is None
    assert result["promoted"] is True
    assert seconds >= 2.0  # waited as asked, not the 0.25 s backoff
    record_fault(
        "MLflow answers 429 with `Retry-After: 2`",
        "promoted after waiting 2 s",
        _describe(stages(mlflow_client, name)),
        seconds,
    )


def test_retry_after_beyond_the_budget_gives_up_at_once(faulty_env, proxy, mlflow_client, record_fault):
    name = register_model(mlflow_client, ["Production", "Staging"])
    proxy.inject("/model-versions/get", "429", headers={"Retry-After": "3600"})

    _, error, seconds = timed(lambda: invoke({"model_name": name, "new_version": "2"}))

    assert isinstance(error, RegistryUnavailableError)
    assert "asked to wait 3600 s" in str(error)
    assert seconds < 5
    assert stages(mlflow_client, name) == {"1": "Production", "2": "Staging"}
    record_fault(
        "MLflow answers 429 with `Retry-After: 3600`",
        "`RegistryUnavailableError` at once (the wait exceeds the budget)",
        "unchanged",
        seconds,
    )


def test_an_answer_never_says_promoted_while_the_alias_names_another_version(
    faulty_env, proxy, mlflow_client, record_fault
):
    name = register_model(mlflow_client, ["Production", "Staging"])
    mlflow_client.set_registered_model_alias(name, "champion", "1")
    proxy.inject("/registered-models/alias", "500")

    _, error, seconds = timed(lambda: invoke({"model_name": name, "new_version": "2"}))
    _, still, _ = timed(lambda: invoke({"model_name": name, "new_version": "2"}))  # the alias still fails
    proxy.clear()
    retry = invoke({"model_name": name, "new_version": "2"})

    assert isinstance(error, PromotionIncompleteError), error
    assert "the champion alias" in str(error)
    assert isinstance(still, PromotionIncompleteError), still
    assert (retry["promoted"], retry["already_promoted"], retry["alias"]) == (True, True, "champion")
    assert mlflow_client.get_model_version_by_alias(name, "champion").version == "2"
    record_fault(
        "MLflow answers 500 to every alias write",
        "`PromotionIncompleteError` (retryable), never `promoted: true` with the alias elsewhere; the retry moves it",
        _describe(stages(mlflow_client, name)),
        seconds,
    )
