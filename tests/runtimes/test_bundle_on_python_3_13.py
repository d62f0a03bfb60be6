"""A bundle synthesized for python3.13 runs a real promotion under Python 3.13: the dev stack with
``lambda_runtime: python3.13`` synthesized (here, on 3.11), its state machine run in the local ASL
interpreter, its task served by the bundled handler in a clean 3.13 interpreter that sees only the
standard library, boto3 (what Lambda adds) and the bundle, against the real MLflow and moto servers."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

import boto3
import pytest

from devtools.deploy.workflow import lambda_runtime_packages
from devtools.local.workflow import SynthesizedStack, TaskRuntime, run_definition
from infra.app_factory import build_app
from tests.infra.conftest import ROOT, cdk_context
from tests.interpreters import interpreter
from tests.support import register_model, stages

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:PromoteModel-dev-PromoteModelFunction"
RUNTIME_PACKAGES = ROOT / ".cache" / "lambda-runtime-packages"  # boto3 alone: pure Python, any 3.x


@pytest.fixture(scope="module")
def python313() -> Path:
    python = interpreter("3.13")
    if python is None:
        pytest.skip("no Python 3.13 on this machine (~/.pyenv/versions/3.13.*): CI and the dev machines have one")
    return python


@pytest.fixture(scope="module")
def stack313(python313: Path, tmp_path_factory: pytest.TempPathFactory) -> SynthesizedStack:
    outdir = tmp_path_factory.mktemp("cdk-out-py313")
    bin_dir = tmp_path_factory.mktemp("py313-bin")
    (bin_dir / "python3.13").symlink_to(python313)  # what byte-compiles the bundle for 3.13
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
        app, stack = build_app(cdk_context("dev", lambda_runtime="python3.13"), outdir=str(outdir))
        app.synth()
    return SynthesizedStack.load(outdir, stack.stack_name)


def test_the_python3_13_bundle_is_built_for_3_13(stack313):
    [function] = [r for r in stack313.template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
                  and r["Properties"]["Handler"] == "promote_model.handler.lambda_handler"]  # fmt: skip

    assert function["Properties"]["Runtime"] == "python3.13"
    assert (stack313.code_dir / "promote_model" / "__pycache__" / "handler.cpython-313.pyc").is_file()
    assert {so.name.split(".")[-2] for so in stack313.layer_dir.rglob("*.so")} == {"cpython-313-x86_64-linux-gnu"}


def test_a_real_promotion_runs_in_the_python3_13_bundle_under_3_13(
    stack313, python313, mlflow_url, mlflow_client, alert_topic, moto
):
    secret_arn = boto3.client("secretsmanager").create_secret(
        Name=f"promote-model/py313-{uuid.uuid4().hex[:8]}",
        SecretString=json.dumps({"username": "promote-model", "password": "not-checked-by-this-server"}),
    )["ARN"]
    references = stack313.local_references(
        function_arn=FUNCTION_ARN, topic_arn=alert_topic.topic_arn, secret_arn=secret_arn
    )
    runtime = TaskRuntime(
        stack313.code_dir, stack313.layer_dir, lambda_runtime_packages(RUNTIME_PACKAGES), python=python313
    )
    name = register_model(mlflow_client, ["Production", "Staging"])

    execution = run_definition(
        stack313.state_machine_definition(references),
        {"model_name": name, "challenger_version": "2", "comparison": {"confidence": 0.9}},
        runtime=runtime,
        environment={
            **stack313.function_environment(references),
            "MLFLOW_TRACKING_URI": mlflow_url,
            "POWERTOOLS_TRACE_DISABLED": "true",
        },
    )

    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    assert execution.output["promotion"]["promoted"] is True
    assert stages(mlflow_client, name) == {"1": "Archived", "2": "Production"}
    # the same clean interpreter, as the worker ran: 3.13, loading the layer's 3.13 machine code
    probe = subprocess.run(
        [*runtime.worker_command()[:3], "-c",
         "import sys; sys.path[:0] = sys.argv[1:3]; import wrapt._wrappers as w; "
         "print('%d.%d' % sys.version_info[:2], w.__file__.rsplit('/', 1)[1])",
         str(stack313.code_dir), str(stack313.layer_dir)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert probe.stdout.split() == ["3.13", "_wrappers.cpython-313-x86_64-linux-gnu.so"]
