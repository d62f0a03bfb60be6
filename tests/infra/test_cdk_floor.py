"""The ``aws-cdk-lib`` floor ``pyproject.toml`` declares is honest: a fresh Python 3.12 environment
with exactly that floor (and the ``constructs`` floor) installs the library's wheel and synthesizes
the example app (python3.13 on arm64). aws-cdk-lib 2.251 lacks ``Acknowledgment``, which 2.252.0
brought: the floor cannot be lower, and this test keeps it from being claimed lower again.

The environment is cached in ``.cache/cdk-floor/`` under the floors themselves; only the library is
reinstalled on later runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.infra.conftest import ROOT
from tests.interpreters import interpreter

EXAMPLE = ROOT / "examples" / "retraining_app"
CACHE = ROOT / ".cache" / "cdk-floor"


def declared_floors() -> dict[str, str]:
    """``{"aws-cdk-lib": "2.252.0", "constructs": "10.5.0"}``: the ``>=`` of each dependency."""
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    floors = {}
    for requirement in dependencies:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+),<\d+", requirement)
        assert match, f"{requirement!r} declares no floor"
        floors[match.group(1)] = match.group(2)
    return floors


def _pip(python: Path, *args: str) -> None:
    subprocess.run(
        [str(python), "-I", "-m", "pip", "--disable-pip-version-check", "--quiet", *args], check=True, cwd=EXAMPLE
    )


@pytest.fixture(scope="module")
def floor_python(library_wheel: Path) -> Path:
    floors = declared_floors()
    base = interpreter("3.12") or Path(sys.executable)
    home = CACHE / ("-".join(f"{name}{version}" for name, version in sorted(floors.items())) + f"-{base.name}")
    python = home / "bin" / "python"
    if not (home / ".ready").exists():
        shutil.rmtree(home, ignore_errors=True)
        subprocess.run([str(base), "-m", "venv", str(home)], check=True)
        _pip(python, "install", *(f"{name}=={version}" for name, version in floors.items()))
        (home / ".ready").touch()
    # the library alone, on the floors as they are: pip must not move them
    _pip(python, "install", "--force-reinstall", "--no-deps", str(library_wheel))
    subprocess.run([str(python), "-I", "-m", "pip", "check"], check=True, capture_output=True)
    return python


def test_the_declared_floor_is_what_the_environment_holds(floor_python):
    probe = "import importlib.metadata as m, json; print(json.dumps({d: m.version(d) for d in ['aws-cdk-lib', 'constructs']}))"

    installed = json.loads(
        subprocess.run([str(floor_python), "-I", "-c", probe], capture_output=True, text=True, check=True).stdout
    )

    assert installed == declared_floors()
    assert installed["aws-cdk-lib"] == "2.252.0"  # 2.251.0 has no Acknowledgment: see the docstring


def test_the_example_app_synthesizes_on_the_declared_floor(floor_python, tmp_path):
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path), "PYTHONPATH": ""}

    synth = subprocess.run(
        [str(floor_python), "app.py"], cwd=EXAMPLE, env=env, capture_output=True, text=True, check=False, timeout=600
    )

    assert synth.returncode == 0, synth.stderr[-3000:]
    template = json.loads((tmp_path / "Retraining.template.json").read_text())
    [function] = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"]["Handler"] == "promote_model.handler.lambda_handler"
    ]
    assert (function["Runtime"], function["Architectures"]) == ("python3.13", ["arm64"])
    assert sum(r["Type"] == "AWS::StepFunctions::StateMachine" for r in template["Resources"].values()) == 1
