"""Rollback against the real MLflow server: restore the version the champion replaced, and never
swing back to a champion a rollback abandoned."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import invoke, received_notifications, register_model, stages

CLI = str(Path(sys.executable).parent / "promote-model")


def _promote_in_turn(mlflow_client, count: int) -> str:
    """A model whose versions 1..count were each promoted by the function, in order."""
    name = register_model(mlflow_client, ["Staging"] * count)
    for version in range(1, count + 1):
        assert invoke({"model_name": name, "new_version": str(version)})["promoted"] is True
    return name


def test_a_rollback_restores_the_version_the_champion_replaced(lambda_env, mlflow_client, alert_topic, sqs):
    name = _promote_in_turn(mlflow_client, 2)
    received_notifications(sqs, alert_topic.queue_url)  # the promotions' own

    result = invoke({"model_name": name, "rollback": True})

    assert (result["promoted"], result["new_version"], result["archived_version"]) == (True, "1", "2")
    assert (result["rollback"], result["rolled_back_from"], result["alias"]) == (True, "2", "champion")
    assert stages(mlflow_client, name) == {"1": "Production", "2": "Archived"}
    assert mlflow_client.get_model_version(name, "1").tags["rolled_back_from"] == "2"
    assert mlflow_client.get_model_version(name, "2").tags["rolled_back_to"] == "1"
    [notice] = received_notifications(sqs, alert_topic.queue_url, wait_seconds=1)
    assert "Rollback: version 1 restored in place of version 2" in notice["Message"]


def test_a_second_rollback_steps_further_back_never_forward(lambda_env, mlflow_client):
    name = _promote_in_turn(mlflow_client, 3)

    first = invoke({"model_name": name, "rollback": True})
    second = invoke({"model_name": name, "rollback": True})
    third = invoke({"model_name": name, "rollback": True})

    assert (first["new_version"], first["rolled_back_from"]) == ("2", "3")
    assert (second["new_version"], second["rolled_back_from"]) == ("1", "2")  # not back to 3
    assert (third["promoted"], third["reason_code"]) == (False, "NO_ROLLBACK_TARGET")
    assert stages(mlflow_client, name) == {"1": "Production", "2": "Archived", "3": "Archived"}


def test_rolling_back_twice_between_two_versions_is_not_a_loop(lambda_env, mlflow_client):
    name = _promote_in_turn(mlflow_client, 2)

    back = invoke({"model_name": name, "rollback": True})
    again = invoke({"model_name": name, "rollback": True})

    assert back["new_version"] == "1"
    assert (again["promoted"], again["reason_code"]) == (False, "NO_ROLLBACK_TARGET")
    assert "version 1" in again["reason"]
    assert stages(mlflow_client, name) == {"1": "Production", "2": "Archived"}


def test_without_an_earlier_champion_there_is_no_rollback_target(lambda_env, mlflow_client):
    name = register_model(mlflow_client, ["Production", "Staging"])
    before = stages(mlflow_client, name)

    result = invoke({"model_name": name, "rollback": True})

    assert (result["promoted"], result["reason_code"]) == (False, "NO_ROLLBACK_TARGET")
    assert stages(mlflow_client, name) == before


def test_a_rollback_with_a_version_is_an_invalid_request(lambda_env):
    result = invoke({"model_name": "PascalStrategy", "rollback": True, "new_version": "3"})

    assert (result["promoted"], result["reason_code"]) == (False, "INVALID_REQUEST")


def test_a_retry_of_the_same_rollback_execution_does_not_roll_back_again(lambda_env, mlflow_client):
    name = _promote_in_turn(mlflow_client, 3)
    event = {"model_name": name, "rollback": True, "execution_id": "arn:aws:states:execution:rollback-1"}

    first = invoke(event)
    retry = invoke(event)

    assert (first["new_version"], retry["new_version"], retry["already_promoted"]) == ("2", "2", True)
    assert stages(mlflow_client, name) == {"1": "Archived", "2": "Production", "3": "Archived"}


def test_the_cli_rolls_back_with_one_command(lambda_env, mlflow_client):
    name = _promote_in_turn(mlflow_client, 2)

    run = subprocess.run(
        [CLI, name, "--rollback"], env=dict(os.environ), capture_output=True, text=True, timeout=60, check=False
    )

    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().startswith(f"Rolled back {name} to version 1")
    assert stages(mlflow_client, name) == {"1": "Production", "2": "Archived"}
