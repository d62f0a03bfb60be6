"""Every 'not promoted' row of docs/design.md §2: a returned answer, nothing written, nothing sent."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest

from promote_model import handler
from tests.support import LambdaContext, invoke, received_notifications, register_model, registry_state


def test_no_staging_version_is_not_promoted(mlflow_client, lambda_env, alert_topic, sqs):
    name = register_model(mlflow_client, ["Production", "Archived"])
    before = registry_state(mlflow_client, name)

    result = invoke({"model_name": name, "confidence": 0.7})

    assert result == {
        "promoted": False,
        "reason": "No Staging version found",
        "reason_code": "NO_STAGING_VERSION",
        "model_name": name,
        "event_sent": True,
    }
    assert registry_state(mlflow_client, name) == before
    assert received_notifications(sqs, alert_topic.queue_url) == []


@pytest.mark.parametrize("event_version", [None, "1"], ids=["staging-fallback", "explicit-version"])
def test_unknown_model_is_not_promoted(mlflow_client, lambda_env, alert_topic, sqs, event_version):
    result = invoke({"model_name": "NoSuchModel-7f3a", "new_version": event_version})

    assert result["promoted"] is False
    assert result["reason_code"] == "MODEL_NOT_FOUND"
    assert "NoSuchModel-7f3a" in result["reason"]
    assert received_notifications(sqs, alert_topic.queue_url) == []


def test_unknown_version_is_not_promoted(mlflow_client, lambda_env, alert_topic, sqs):
    name = register_model(mlflow_client, ["Production", "Staging"])
    before = registry_state(mlflow_client, name)

    result = invoke({"model_name": name, "new_version": "9"})

    assert result["reason_code"] == "VERSION_NOT_FOUND"
    assert result["reason"] == f"Model '{name}' has no version 9"
    assert registry_state(mlflow_client, name) == before
    assert received_notifications(sqs, alert_topic.queue_url) == []


@pytest.mark.parametrize("event_version", [None, "2"], ids=["staging-fallback", "explicit-version"])
def test_version_not_ready_is_not_promoted(mlflow_client, mlflow_url, servers_dir, lambda_env, event_version):
    # MLflow's API creates versions READY; a registration still pending is reached by writing the
    # status into the server's own SQLite store, which the real server then reads and reports.
    name = register_model(mlflow_client, ["Production", "Staging"])
    database = Path(servers_dir / "mlflow" / "mlflow.db")
    with sqlite3.connect(database) as connection:
        connection.execute(
            "UPDATE model_versions SET status = 'PENDING_REGISTRATION' WHERE name = ? AND version = 2", (name,)
        )
    before = registry_state(mlflow_client, name)

    result = invoke({"model_name": name, "new_version": event_version})

    assert result["reason_code"] == "VERSION_NOT_READY"
    assert "PENDING_REGISTRATION" in result["reason"]
    assert registry_state(mlflow_client, name) == before


INVALID_EVENTS = {
    "missing name": ({"new_version": "2"}, "model_name is required"),
    "blank name": ({"model_name": "   "}, "model_name must not be blank"),
    "name not a string": ({"model_name": 42}, "model_name must be a string"),
    "name too long": ({"model_name": "m" * 257}, "at most 256 characters"),
    "version zero": ({"model_name": "{name}", "new_version": "0"}, "new_version must be a positive whole number"),
    "version negative": ({"model_name": "{name}", "new_version": -2}, "new_version"),
    "version words": ({"model_name": "{name}", "new_version": "two"}, "new_version"),
    "version float": ({"model_name": "{name}", "new_version": 2.0}, "new_version"),
    "version boolean": ({"model_name": "{name}", "new_version": True}, "new_version"),
    "confidence too high": ({"model_name": "{name}", "confidence": 1.5}, "confidence"),
    "confidence negative": ({"model_name": "{name}", "confidence": -0.1}, "confidence"),
    "confidence string": ({"model_name": "{name}", "confidence": "0.9"}, "confidence"),
    "confidence boolean": ({"model_name": "{name}", "confidence": True}, "confidence"),
    "confidence huge integer": ({"model_name": "{name}", "confidence": 10**400}, "confidence"),
}


@pytest.mark.parametrize(("event", "reason_part"), INVALID_EVENTS.values(), ids=INVALID_EVENTS.keys())
def test_invalid_request_is_rejected_without_writing(mlflow_client, lambda_env, alert_topic, sqs, event, reason_part):
    name = register_model(mlflow_client, ["Production", "Staging"])
    before = registry_state(mlflow_client, name)
    event = {key: value.format(name=name) if value == "{name}" else value for key, value in event.items()}

    result = invoke(event)

    assert result["promoted"] is False
    assert result["reason_code"] == "INVALID_REQUEST"
    assert reason_part in result["reason"]
    assert registry_state(mlflow_client, name) == before
    assert received_notifications(sqs, alert_topic.queue_url) == []


@pytest.mark.parametrize("event", [[], "PascalStrategy", None, 7], ids=["array", "string", "null", "number"])
def test_an_event_that_is_not_an_object_is_rejected(lambda_env, event):
    result = handler.lambda_handler(event, LambdaContext())

    assert result["reason_code"] == "INVALID_REQUEST"
    assert "JSON object" in result["reason"]


def test_non_finite_confidence_is_rejected(lambda_env):
    # NaN cannot cross JSON, but a direct Python caller can pass it
    result = handler.lambda_handler({"model_name": "m", "confidence": math.nan}, LambdaContext())

    assert result["reason_code"] == "INVALID_REQUEST"
    assert "confidence" in result["reason"]
