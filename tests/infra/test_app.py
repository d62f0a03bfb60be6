"""The fixed interface: `python app.py` with only `CDK_CONTEXT_JSON='{"environment": "prod"}'` writes
the template `cdk synth -c environment=prod` writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.infra.conftest import ROOT


def _env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        **extra,
    }


def test_python_app_py_alone_writes_the_template_the_cdk_cli_writes(tmp_path):
    by_app = tmp_path / "app"
    by_cli = tmp_path / "cli"

    app = subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=_env(CDK_CONTEXT_JSON=json.dumps({"environment": "prod"}), CDK_OUTDIR=str(by_app)),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    cli = subprocess.run(
        ["npx", "--no-install", "cdk", "synth", "-c", "environment=prod", "--quiet", "-o", str(by_cli)],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )

    assert app.returncode == 0, app.stderr[-3000:]
    assert cli.returncode == 0, cli.stderr[-3000:]
    template = "PromoteModel-prod.template.json"
    assert json.loads((by_app / template).read_text()) == json.loads((by_cli / template).read_text())


def test_python_app_py_names_the_known_environments_when_none_is_given(tmp_path):
    app = subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=_env(CDK_CONTEXT_JSON="{}", CDK_OUTDIR=str(tmp_path)),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )

    assert app.returncode == 1
    assert "pass -c environment=<name>, one of: dev, local, prod, staging" in app.stderr
