"""The synthesized assets (cdk.out) run in an interpreter that has nothing but boto3, as Lambda's."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.infra.conftest import ROOT

# Runs inside the clean interpreter: import the handler from the assets and invoke it once.
_PROBE = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from promote_model.handler import lambda_handler

class Context:
    function_name = "probe"; memory_limit_in_mb = 256; aws_request_id = "probe"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:probe"
    def get_remaining_time_in_millis(self): return 60000

result = lambda_handler({"model_name": "  "}, Context())
print(json.dumps({"result": result, "mlflow_loaded": any(m.split(".")[0] == "mlflow" for m in sys.modules),
                  "handler_file": sys.modules["promote_model.handler"].__file__}))
"""


@pytest.fixture(scope="session")
def boto3_only_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment holding only boto3 (and what boto3 needs), pinned like ours."""
    home = tmp_path_factory.mktemp("boto3-only")
    venv.create(home, with_pip=True)
    python = home / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-c", str(ROOT / "constraints.txt"), "boto3"],
        check=True,
    )  # fmt: skip
    return python


def _asset_dirs(synthesized) -> tuple[Path, Path]:
    def path_of(type_name: str) -> Path:
        [resource] = [
            r
            for r in synthesized.resources(type_name).values()
            if type_name != "AWS::Lambda::Function"
            or r["Properties"]["Handler"] == "promote_model.handler.lambda_handler"
        ]
        return synthesized.outdir / resource["Metadata"]["aws:asset:path"]

    return path_of("AWS::Lambda::Function"), path_of("AWS::Lambda::LayerVersion") / "python"


def test_the_bundled_handler_runs_with_nothing_but_boto3(synthesized, boto3_only_python):
    code_dir, layer_dir = _asset_dirs(synthesized)

    probe = subprocess.run(
        [str(boto3_only_python), "-I", "-c", _PROBE, str(code_dir), str(layer_dir)],
        capture_output=True,
        text=True,
        check=False,
        env={"MLFLOW_TRACKING_URI": "https://mlflow.example.com", "POWERTOOLS_TRACE_DISABLED": "true",
             "AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip

    assert probe.returncode == 0, probe.stderr
    answer = json.loads(probe.stdout.strip().splitlines()[-1])
    assert answer["result"]["reason_code"] == "INVALID_REQUEST"
    assert answer["mlflow_loaded"] is False
    assert Path(answer["handler_file"]).is_relative_to(code_dir)


def test_neither_mlflow_nor_mlflow_skinny_is_in_the_bundle(synthesized):
    code_dir, layer_dir = _asset_dirs(synthesized)

    names = {p.name.lower() for d in (code_dir, layer_dir) for p in d.iterdir()}

    assert not {n for n in names if n.startswith(("mlflow", "mlflow_skinny"))}
    assert not {n for n in names if n.startswith(("boto3", "botocore"))}  # the runtime provides them
    assert "aws_lambda_powertools" in names


def test_bundled_modules_are_precompiled_for_python_3_11(synthesized):
    code_dir, _ = _asset_dirs(synthesized)

    assert (code_dir / "promote_model" / "__pycache__" / "handler.cpython-311.pyc").is_file()
    assert sys.version_info[:2] == (3, 11)
