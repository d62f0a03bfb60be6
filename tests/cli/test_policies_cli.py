"""The `promote-model` command with the promotion policies: copy mode says what it copies, a gate's
refusal exits 20 with its reason code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import register_model

CLI = str(Path(sys.executable).parent / "promote-model")


@pytest.fixture
def cli_env(mlflow_url, moto):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "ALERT"))}
    return env | {"MLFLOW_TRACKING_URI": mlflow_url, "ENVIRONMENT": "prod", "EVENT_BUS_NAME": ""}


def _run(env, *args):
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=env, check=False, timeout=60)


def test_copy_mode_says_what_it_copies_and_where(cli_env, mlflow_client):
    env = cli_env | {"PROMOTION_MODE": "copy", "TARGET_MODEL_NAME": "prod-{model_name}"}
    name = register_model(mlflow_client, ["Staging"])

    dry = _run(env, name, "--dry-run")
    done = _run(env, name)
    again = _run(env, name)

    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.strip() == (
        f"Dry run: would copy {name} version 1 into prod-{name}, promote the copy to alias:champion and archive nothing."
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        f"Promoted prod-{name} version 1 (a copy of {name} version 1) to alias:champion "
        "(no previous champion; no notification sent)."
    )
    assert again.returncode == 10
    assert "is already in alias:champion" in again.stdout


def test_a_gate_refusal_exits_20_with_its_reason_code(cli_env, mlflow_client):
    name = register_model(mlflow_client, ["Production", "Staging"])

    run = _run(cli_env | {"MIN_CONFIDENCE": "0.9"}, name, "--confidence", "0.5")

    assert run.returncode == 20
    assert run.stdout.startswith("Not promoted (CONFIDENCE_BELOW_MINIMUM): ")
