"""The `promote-model` console command against the real MLflow server, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.local.servers import free_port
from tests.support import received_notifications, register_model, stages

CLI = str(Path(sys.executable).parent / "promote-model")


@pytest.fixture
def cli_env(mlflow_url, alert_topic, moto):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "ALERT"))}
    return env | {"MLFLOW_TRACKING_URI": mlflow_url, "ALERT_TOPIC_ARN": alert_topic.topic_arn, "ENVIRONMENT": "prod"}


def _run(env, *args):
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=env, check=False, timeout=60)


def test_promotes_a_given_version_and_says_so(cli_env, mlflow_client, alert_topic, sqs):
    name = register_model(mlflow_client, ["Production", "Staging", "Staging"])

    run = _run(cli_env, name, "--version", "2", "--confidence", "0.85")

    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"Promoted {name} version 2 to Production (version 1 archived; notification sent)."
    assert stages(mlflow_client, name) == {"1": "Archived", "2": "Production", "3": "Staging"}
    [notification] = received_notifications(sqs, alert_topic.queue_url, wait_seconds=1)
    assert "Comparison Confidence: 85.0%" in notification["Message"]


def test_rolls_back_with_json_output(cli_env, mlflow_client):
    name = register_model(mlflow_client, ["Archived", "Production"])

    run = _run(cli_env, name, "--version", "1", "--json")

    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert (result["promoted"], result["new_version"], result["archived_version"]) == (True, "1", "2")
    assert stages(mlflow_client, name) == {"1": "Production", "2": "Archived"}


def test_already_promoted_exits_10(cli_env, mlflow_client):
    name = register_model(mlflow_client, ["Production"])

    run = _run(cli_env, name, "--version", "1")

    assert run.returncode == 10
    assert "already in Production" in run.stdout


def test_not_promoted_exits_20_with_the_reason(cli_env, mlflow_client):
    name = register_model(mlflow_client, ["Production"])

    run = _run(cli_env, name)

    assert run.returncode == 20
    assert run.stdout.strip() == "Not promoted (NO_STAGING_VERSION): No Staging version found"


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        (["--version", "0"], "new_version must be a positive whole number"),
        (["--version", "abc"], "new_version must be a positive whole number"),
        (["--confidence", "2"], "confidence must be a finite number in [0, 1]"),
    ],
)
def test_bad_values_on_the_command_line_exit_2_and_touch_nothing(cli_env, mlflow_client, arguments, complaint):
    name = register_model(mlflow_client, ["Production", "Staging"])

    run = _run(cli_env, name, *arguments)

    assert run.returncode == 2
    assert complaint in run.stderr
    assert "Traceback" not in run.stderr
    assert stages(mlflow_client, name) == {"1": "Production", "2": "Staging"}


def test_a_name_mlflow_refuses_exits_2(cli_env):
    run = _run(cli_env, "team/model")

    assert run.returncode == 2
    assert "model_name must not contain '/'" in run.stderr


def test_an_unreachable_registry_exits_30_with_the_error(cli_env):
    run = _run(cli_env | {"MLFLOW_TRACKING_URI": f"http://127.0.0.1:{free_port()}"}, "PascalStrategy")

    assert run.returncode == 30
    assert run.stderr.startswith("error: RegistryUnavailableError: MLflow at http://127.0.0.1:")
    assert "Traceback" not in run.stderr


def test_missing_settings_exit_30_naming_the_variable(cli_env):
    env = {k: v for k, v in cli_env.items() if k != "MLFLOW_TRACKING_URI"}

    run = _run(env, "PascalStrategy", "--json")

    assert run.returncode == 30
    assert json.loads(run.stdout)["error"] == "ConfigurationError"
    assert "MLFLOW_TRACKING_URI" in json.loads(run.stdout)["message"]
