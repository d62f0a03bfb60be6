"""The raised errors of docs/design.md §2 for configuration and an unreachable registry."""

from __future__ import annotations

import time

import pytest

from devtools.local.servers import free_port
from promote_model.errors import ConfigurationError, RegistryUnavailableError
from tests.support import LambdaContext, invoke, log_records


def test_missing_tracking_uri_is_a_configuration_error(lambda_env):
    lambda_env.delenv("MLFLOW_TRACKING_URI")

    with pytest.raises(ConfigurationError, match="MLFLOW_TRACKING_URI is not set"):
        invoke({"model_name": "PascalStrategy"})


def test_a_tracking_uri_that_is_not_http_is_a_configuration_error(lambda_env):
    lambda_env.setenv("MLFLOW_TRACKING_URI", "databricks")

    with pytest.raises(ConfigurationError, match="MLFLOW_TRACKING_URI must be an http"):
        invoke({"model_name": "PascalStrategy"})


def test_half_given_credentials_are_a_configuration_error(lambda_env):
    lambda_env.setenv("MLFLOW_TRACKING_USERNAME", "promoter")

    with pytest.raises(ConfigurationError, match="MLFLOW_TRACKING_PASSWORD is not set"):
        invoke({"model_name": "PascalStrategy"})


def test_an_unreachable_registry_fails_fast_with_a_named_error(lambda_env, log_output, capsys):
    # a loopback port nobody listens on: every connection is refused
    lambda_env.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()

    with pytest.raises(RegistryUnavailableError, match="after 4 attempt"):
        invoke({"model_name": "PascalStrategy", "new_version": "3"})

    assert time.monotonic() - started < 15  # the bounded retry budget, not MLflow's client defaults
    [failure] = [r for r in log_records(log_output) if r["message"] == "promotion failed"]
    assert (failure["outcome"], failure["error_type"]) == ("error", "RegistryUnavailableError")
    assert '"error_type"' in capsys.readouterr().out  # the per-error-type metric


def test_the_registry_budget_follows_the_lambdas_remaining_time(lambda_env):
    # with 10.5 s left and a 10 s safety margin, half a second remains for the registry
    lambda_env.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()

    with pytest.raises(RegistryUnavailableError):
        invoke({"model_name": "PascalStrategy"}, timeout_seconds=10.5)

    assert time.monotonic() - started < 3


def test_the_tracer_is_loaded_only_where_xray_is_active(monkeypatch):
    from promote_model.observability import traced

    def answer(event, context):
        return {"echo": event}

    monkeypatch.delenv("AWS_XRAY_DAEMON_ADDRESS", raising=False)
    assert traced(answer) is answer

    monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", "127.0.0.1:2000")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    assert traced(answer) is answer

    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "false")
    wrapped = traced(answer)
    assert wrapped is not answer
    assert wrapped({"x": 1}, LambdaContext()) == {"echo": {"x": 1}}
