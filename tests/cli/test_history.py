"""`promote-model history`: the champions read back from the audit tags of a real MLflow server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import invoke, register_model

CLI = str(Path(sys.executable).parent / "promote-model")


@pytest.fixture
def cli_env(mlflow_url, lambda_env):
    """The CLI's environment, and the function's (``lambda_env``) for the promotions it reads back."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "ALERT"))}
    return env | {"MLFLOW_TRACKING_URI": mlflow_url, "ENVIRONMENT": "prod"}


def _history(env, *args):
    return subprocess.run([CLI, "history", *args], capture_output=True, text=True, env=env, check=False, timeout=60)


def test_history_lists_the_champions_newest_first_with_the_rollback_marked(cli_env, mlflow_client):
    name = register_model(mlflow_client, ["Staging", "Staging", "Staging"])
    for version, execution in (("1", "run-1"), ("2", "run-2"), ("3", "run-3")):
        assert invoke({"model_name": name, "new_version": version, "execution_id": execution})["promoted"] is True
    assert invoke({"model_name": name, "rollback": True, "execution_id": "run-4"})["new_version"] == "2"

    run = _history(cli_env, name, "--json")

    assert run.returncode == 0, run.stderr
    records = json.loads(run.stdout)
    assert [r["version"] for r in records] == ["2", "3", "1"]
    restored, abandoned, first = records
    assert (restored["rollback"], restored["rolled_back_from"], restored["current"]) == (True, "3", True)
    assert (restored["execution_id"], restored["previous_version"]) == ("run-4", "3")
    assert (abandoned["rolled_back_to"], abandoned["previous_version"], abandoned["current"]) == ("2", "2", False)
    assert (first["previous_version"], first["execution_id"], first["rollback"]) == (None, "run-1", False)
    assert all(r["promoted_by"] and r["promoted_at"].endswith("Z") for r in records)


def test_history_as_a_table_and_limited(cli_env, mlflow_client):
    name = register_model(mlflow_client, ["Staging", "Staging"])
    for version in ("1", "2"):
        invoke({"model_name": name, "new_version": version})

    run = _history(cli_env, name, "--limit", "1")

    assert run.returncode == 0, run.stderr
    header, columns, row, *rest = run.stdout.splitlines()
    assert header == f"Champions of {name}, newest first:"
    assert columns.split() == ["version", "promoted_at", "promoted_by", "previous_version", "execution_id", "note"]
    assert row.split()[0] == "2"
    assert "current champion" in row
    assert rest == []


def test_history_in_copy_mode_reads_the_target_model(cli_env, mlflow_client, lambda_env):
    copy_mode = {"PROMOTION_MODE": "copy", "TARGET_MODEL_NAME": "prod-{model_name}"}
    cli_env.update(copy_mode)
    for key, value in copy_mode.items():
        lambda_env.setenv(key, value)  # the function's, undone after the test
    name = register_model(mlflow_client, ["Staging"])
    invoke({"model_name": name})

    run = _history(cli_env, name, "--json")

    assert run.returncode == 0, run.stderr
    [record] = json.loads(run.stdout)
    assert (record["version"], record["source_model_name"], record["source_version"]) == ("1", name, "1")
    assert record["current"] is True


def test_a_model_without_promotions_has_an_empty_history(cli_env, mlflow_client):
    name = register_model(mlflow_client, ["Staging"])

    table, as_json = _history(cli_env, name), _history(cli_env, name, "--json")

    assert (table.returncode, as_json.returncode) == (0, 0)
    assert "no promotion recorded" in table.stdout
    assert json.loads(as_json.stdout) == []


def test_an_unknown_model_exits_20(cli_env):
    run = _history(cli_env, "NoSuchModel-history")

    assert run.returncode == 20
    assert "No registered model named 'NoSuchModel-history'" in run.stderr


@pytest.mark.parametrize("limit", ["0", "-1", "many"])
def test_a_bad_limit_exits_2(cli_env, limit):
    run = _history(cli_env, "AnyModel", "--limit", limit)

    assert run.returncode == 2
    assert "--limit" in run.stderr
