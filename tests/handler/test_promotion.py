"""The spec's success, fallback and idempotent paths, against the real MLflow server."""

from __future__ import annotations

import json

from tests.support import invoke, log_records, received_notifications, register_model, registry_state, stages


def test_promotes_the_given_version_and_archives_the_champion(mlflow_client, lambda_env, alert_topic, sqs):
    # given a champion (v2) and a challenger (v3) in Staging
    name = register_model(mlflow_client, ["Archived", "Production", "Staging"])

    # when
    result = invoke({"model_name": name, "new_version": "3", "confidence": 0.85})

    # then: the spec's shape, MLflow's stages, and the notification as a subscriber reads it
    assert result == {
        "promoted": True,
        "new_version": "3",
        "new_stage": "Production",
        "archived_version": "2",
        "already_promoted": False,
        "model_name": name,
        "confidence": 0.85,
        "notification_sent": True,
        "alias": "champion",
        "audit_tags_written": True,
        "event_sent": True,
    }
    assert stages(mlflow_client, name) == {"1": "Archived", "2": "Archived", "3": "Production"}
    [notification] = received_notifications(sqs, alert_topic.queue_url, wait_seconds=1)
    assert notification["Subject"] == f"[TradAI] Model Promoted: {name}"
    assert notification["Message"] == (
        "Model Promotion Completed\n"
        f"Model: {name}\n"
        "New Production Version: 3\n"
        "Previous Version: 2\n"
        "Comparison Confidence: 85.0%\n"
        "Environment: prod\n"
        "Alias: champion"
    )
    assert notification["MessageAttributes"]["registry"]["Value"] == "tradai-models"


def test_promotes_the_latest_staging_version_when_none_is_given(mlflow_client, lambda_env, alert_topic, sqs):
    name = register_model(mlflow_client, ["Production", "Staging", "Staging"])

    result = invoke({"model_name": name, "confidence": 0.5})

    assert result["promoted"] is True
    assert (result["new_version"], result["archived_version"]) == ("3", "1")
    assert stages(mlflow_client, name) == {"1": "Archived", "2": "Staging", "3": "Production"}
    [notification] = received_notifications(sqs, alert_topic.queue_url, wait_seconds=1)
    assert "New Production Version: 3\nPrevious Version: 1\nComparison Confidence: 50.0%" in notification["Message"]


def test_null_version_means_the_latest_staging_version(mlflow_client, lambda_env):
    name = register_model(mlflow_client, ["Staging"])

    result = invoke({"model_name": name, "new_version": None})

    assert result["new_version"] == "1"
    assert stages(mlflow_client, name) == {"1": "Production"}


def test_first_champion_has_no_archived_version_and_says_none(mlflow_client, lambda_env, alert_topic, sqs):
    name = register_model(mlflow_client, ["Staging"])

    result = invoke({"model_name": name})

    assert result["archived_version"] is None
    assert result["confidence"] == 0.0
    [notification] = received_notifications(sqs, alert_topic.queue_url, wait_seconds=1)
    assert "Previous Version: none\nComparison Confidence: 0.0%" in notification["Message"]


def test_integer_version_is_normalised_to_a_string(mlflow_client, lambda_env):
    name = register_model(mlflow_client, ["None", "Staging"])

    result = invoke({"model_name": name, "new_version": 1, "confidence": 1})

    assert (result["new_version"], result["confidence"]) == ("1", 1.0)
    assert stages(mlflow_client, name) == {"1": "Production", "2": "Staging"}


def test_rolls_back_to_an_archived_version_given_explicitly(mlflow_client, lambda_env):
    name = register_model(mlflow_client, ["Archived", "Production"])

    result = invoke({"model_name": name, "new_version": "1"})

    assert (result["new_version"], result["archived_version"]) == ("1", "2")
    assert stages(mlflow_client, name) == {"1": "Production", "2": "Archived"}


def test_already_champion_is_idempotent_and_writes_nothing(mlflow_client, lambda_env, alert_topic, sqs):
    name = register_model(mlflow_client, ["Archived", "Production"])
    before = registry_state(mlflow_client, name)

    result = invoke({"model_name": name, "new_version": "2", "confidence": 0.9})

    assert result == {
        "promoted": True,
        "new_version": "2",
        "new_stage": "Production",
        "archived_version": None,
        "already_promoted": True,
        "model_name": name,
        "confidence": 0.9,
        "notification_sent": False,
        "alias": "champion",
        "audit_tags_written": False,
        "event_sent": True,
    }
    assert registry_state(mlflow_client, name) == before
    assert received_notifications(sqs, alert_topic.queue_url) == []


def test_a_retried_promotion_answers_already_promoted(mlflow_client, lambda_env, alert_topic, sqs):
    name = register_model(mlflow_client, ["Production", "Staging"])
    first = invoke({"model_name": name, "new_version": "2"})
    after_first = registry_state(mlflow_client, name)

    second = invoke({"model_name": name, "new_version": "2"})

    assert first["already_promoted"] is False
    assert second["already_promoted"] is True
    assert registry_state(mlflow_client, name) == after_first
    assert len(received_notifications(sqs, alert_topic.queue_url, wait_seconds=1)) == 1


def test_disabled_alerts_promote_without_a_notification(mlflow_client, lambda_env, alert_topic, sqs):
    lambda_env.setenv("ALERTS_ENABLED", "false")
    name = register_model(mlflow_client, ["Staging"])

    result = invoke({"model_name": name})

    assert (result["promoted"], result["notification_sent"]) == (True, False)
    assert stages(mlflow_client, name) == {"1": "Production"}
    assert received_notifications(sqs, alert_topic.queue_url) == []


def test_a_failed_publish_keeps_the_promotion_and_says_so(mlflow_client, lambda_env, log_output, capsys):
    # a topic that does not exist: moto answers NotFound, as SNS would
    lambda_env.setenv("ALERT_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:no-such-topic")
    name = register_model(mlflow_client, ["Production", "Staging"])

    result = invoke({"model_name": name})

    assert (result["promoted"], result["notification_sent"], result["archived_version"]) == (True, False, "1")
    assert stages(mlflow_client, name) == {"1": "Archived", "2": "Production"}
    [warning] = [r for r in log_records(log_output) if r["message"] == "notification failed"]
    assert (warning["level"], warning["model_name"]) == ("WARNING", name)
    assert '"NotificationFailed"' in capsys.readouterr().out


def test_a_long_unicode_name_gets_a_valid_truncated_subject(mlflow_client, lambda_env, alert_topic, sqs):
    name = register_model(mlflow_client, ["Staging"], name="Stratégie-" + "x" * 200 + "-é")

    result = invoke({"model_name": name})

    assert result["promoted"] is True
    [notification] = received_notifications(sqs, alert_topic.queue_url, wait_seconds=1)
    subject = notification["Subject"]
    assert len(subject) == 100
    assert subject.startswith("[TradAI] Model Promoted: Strat?gie-xxx")
    assert subject.endswith("...")
    assert all(" " <= c <= "~" for c in subject)
    assert f"Model: {name}\n" in notification["Message"]


def test_each_outcome_is_one_structured_log_line_and_a_metric(mlflow_client, lambda_env, log_output, capsys):
    name = register_model(mlflow_client, ["Production", "Staging"])

    invoke({"model_name": name, "new_version": "2"})

    [outcome] = [r for r in log_records(log_output) if r["message"] == "promotion finished"]
    assert outcome["model_name"] == name
    assert (outcome["new_version"], outcome["archived_version"], outcome["outcome"]) == ("2", "1", "promoted")
    assert "function_request_id" in outcome  # the Lambda context is injected
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [m["Promoted"] for m in emf if "Promoted" in m] == [[1.0]]
