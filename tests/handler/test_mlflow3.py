"""MLflow 3 readiness: the champion alias, the challenger alias, the audit trail and dry runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from promote_model.errors import ConfigurationError
from tests.support import (
    LambdaContext,
    full_state,
    invoke,
    received_notifications,
    register_model,
    stages,
)

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def _alias_target(client, name, alias="champion"):
    return client.get_model_version_by_alias(name, alias).version


def test_champion_alias_follows_the_promotion(mlflow_client, lambda_env, alert_topic, sqs):
    name = register_model(mlflow_client, ["Production", "Staging"])
    mlflow_client.set_registered_model_alias(name, "champion", "1")

    result = invoke({"model_name": name})

    assert result["alias"] == "champion"
    assert _alias_target(mlflow_client, name) == "2"
    [notification] = received_notifications(sqs, alert_topic.queue_url, wait_seconds=1)
    assert notification["Message"].endswith("\nAlias: champion")


def test_a_custom_alias_and_an_empty_one(mlflow_client, lambda_env):
    lambda_env.setenv("PROMOTION_ALIAS", "prod-live")
    name = register_model(mlflow_client, ["Staging"])
    invoke({"model_name": name})
    assert _alias_target(mlflow_client, name, "prod-live") == "1"

    lambda_env.setenv("PROMOTION_ALIAS", "")
    from promote_model import handler

    handler.reset_runtime()
    other = register_model(mlflow_client, ["Staging"])
    result = invoke({"model_name": other})
    assert result["alias"] is None
    assert full_state(mlflow_client, other)["1"][3] == []


def test_an_idempotent_call_repairs_a_stray_alias_and_writes_nothing_else(mlflow_client, lambda_env):
    name = register_model(mlflow_client, ["Staging", "Production"])
    mlflow_client.set_registered_model_alias(name, "champion", "1")  # points at the wrong version
    before = full_state(mlflow_client, name)

    result = invoke({"model_name": name, "new_version": "2"})

    assert (result["already_promoted"], result["alias"]) == (True, "champion")
    after = full_state(mlflow_client, name)
    assert _alias_target(mlflow_client, name) == "2"
    assert {v: s[:3] for v, s in after.items()} == {v: s[:3] for v, s in before.items()}  # no stage or tag


def test_the_challenger_alias_is_tried_before_the_latest_staging_version(mlflow_client, lambda_env):
    lambda_env.setenv("CHALLENGER_ALIAS", "challenger")
    name = register_model(mlflow_client, ["Production", "None", "Staging"])
    mlflow_client.set_registered_model_alias(name, "challenger", "2")

    result = invoke({"model_name": name})

    assert result["new_version"] == "2"
    assert stages(mlflow_client, name) == {"1": "Archived", "2": "Production", "3": "Staging"}


def test_without_a_challenger_alias_the_latest_staging_version_is_promoted(mlflow_client, lambda_env):
    lambda_env.setenv("CHALLENGER_ALIAS", "challenger")
    name = register_model(mlflow_client, ["Production", "Staging"])

    result = invoke({"model_name": name})

    assert result["new_version"] == "2"


def test_audit_tags_record_who_promoted_what_and_when(mlflow_client, lambda_env):
    name = register_model(mlflow_client, ["Production", "Staging"])
    execution = "arn:aws:states:us-east-1:123456789012:execution:Retraining:run-42"

    result = invoke({"model_name": name, "confidence": 0.85, "execution_id": execution})

    assert result["audit_tags_written"] is True
    state = full_state(mlflow_client, name)
    promoted_tags, archived_tags = state["2"][2], state["1"][2]
    assert ISO_UTC.fullmatch(promoted_tags.pop("promoted_at"))
    # what this execution delivered, so that a retry of it does not send it again
    assert (promoted_tags.pop("notification_sent_for"), promoted_tags.pop("event_sent_for")) == (execution, execution)
    assert promoted_tags == {
        "promoted_by": LambdaContext().invoked_function_arn,
        "previous_version": "1",
        "confidence": "0.85",
        "environment": "prod",
        "execution_id": execution,
    }
    assert ISO_UTC.fullmatch(archived_tags.pop("archived_at"))
    assert archived_tags == {"superseded_by": "2"}


def test_a_first_champion_is_tagged_without_an_archived_version(mlflow_client, lambda_env):
    name = register_model(mlflow_client, ["Staging"])

    invoke({"model_name": name})

    tags = full_state(mlflow_client, name)["1"][2]
    assert tags["previous_version"] == "none"
    assert "execution_id" not in tags


def test_an_idempotent_call_adds_no_tags(mlflow_client, lambda_env):
    name = register_model(mlflow_client, ["Production", "Staging"])
    invoke({"model_name": name, "new_version": "2"})
    after_first = full_state(mlflow_client, name)

    invoke({"model_name": name, "new_version": "2", "execution_id": "another-run"})

    assert full_state(mlflow_client, name) == after_first


@pytest.mark.parametrize(
    ("event_extra", "stages_", "expected"),
    [
        ({"new_version": "3"}, ["Production", "Staging", "Staging"], ("3", "1", True)),
        ({}, ["Production", "Staging", "Staging"], ("3", "1", True)),
        ({"new_version": "1"}, ["Production", "Staging"], ("1", None, False)),
    ],
    ids=["explicit", "latest-staging", "already-champion"],
)
def test_a_dry_run_says_what_would_happen_and_changes_nothing(
    mlflow_client, lambda_env, alert_topic, sqs, event_extra, stages_, expected
):
    name = register_model(mlflow_client, stages_)
    before = full_state(mlflow_client, name)

    result = invoke({"model_name": name, "dry_run": True, **event_extra})

    would_promote = expected[2]
    assert result["dry_run"] is True
    assert result["promoted"] is False  # nothing was promoted: a workflow's Choice stays off the success path
    assert (result["new_version"], result["archived_version"], result["would_promote"]) == expected
    assert result["already_promoted"] is (not would_promote)
    assert full_state(mlflow_client, name) == before
    assert received_notifications(sqs, alert_topic.queue_url) == []


def test_a_dry_run_reports_a_not_promoted_reason(mlflow_client, lambda_env):
    name = register_model(mlflow_client, ["Production"])

    result = invoke({"model_name": name, "dry_run": True})

    assert (result["reason_code"], result["dry_run"]) == ("NO_STAGING_VERSION", True)


def test_dry_run_must_be_a_boolean(lambda_env):
    result = invoke({"model_name": "PascalStrategy", "dry_run": "yes"})

    assert result["reason_code"] == "INVALID_REQUEST"
    assert "dry_run" in result["reason"]


@pytest.mark.parametrize("alias", ["latest", "v3", "has space", "ü"])
def test_an_invalid_alias_setting_is_a_configuration_error(lambda_env, alias):
    lambda_env.setenv("PROMOTION_ALIAS", alias)

    with pytest.raises(ConfigurationError, match="PROMOTION_ALIAS"):
        invoke({"model_name": "PascalStrategy"})


def test_the_cli_dry_run_changes_nothing(mlflow_client, mlflow_url, moto):
    name = register_model(mlflow_client, ["Production", "Staging"])
    before = full_state(mlflow_client, name)
    env = {"MLFLOW_TRACKING_URI": mlflow_url, "PATH": "/usr/bin:/bin"}

    run = subprocess.run(
        [str(Path(sys.executable).parent / "promote-model"), name, "--dry-run"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )

    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"Dry run: would promote {name} version 2 to Production and archive version 1."
    assert full_state(mlflow_client, name) == before


def test_the_cli_records_its_user_as_promoter(mlflow_client, mlflow_url):
    name = register_model(mlflow_client, ["Staging"])

    subprocess.run(
        [str(Path(sys.executable).parent / "promote-model"), name],
        env={"MLFLOW_TRACKING_URI": mlflow_url, "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
        timeout=60,
    )

    assert full_state(mlflow_client, name)["1"][2]["promoted_by"].endswith("(promote-model CLI)")
