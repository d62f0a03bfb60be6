"""A team's own CDK app with the library installed the way the README says: a fresh virtual
environment of Python 3.12 (no repository on its path), the wheel ``make dist`` builds, then
``pip install -r examples/retraining_app/requirements.txt`` (which finds that wheel through its
``--find-links ../../dist`` and takes everything else from the index), then the example app
synthesized there with ``python app.py`` for each ``MlflowAuth`` variant, as python3.13 on arm64.

The environment is cached in ``.cache/`` (git-ignored) under the hash of the lock and the project
file, so that only the library is reinstalled on later runs; pip's own cache serves the downloads.
More interpreters: ``PROMOTE_MODEL_CDK_PYTHONS="/path/python3.11 /path/python3.13"``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.infra.checkov import checkov_executable, scan, unexplained
from tests.infra.conftest import ROOT
from tests.infra.templates import DEFAULT_EVENT_BUS_ARN, function_grants, only, resources, state_machine_states
from tests.interpreters import interpreter

EXAMPLE = ROOT / "examples" / "retraining_app"
CACHE = ROOT / ".cache" / "library-venvs"
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mlflow/promote-model-token-AbCdEf"
TRACKING_SERVER_ARN = "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/models"
AUTH_VARIANTS = {
    "basic": {"kind": "basic"},
    "token": {"kind": "token", "secret_arn": SECRET_ARN},
    "sagemaker": {"kind": "sagemaker", "tracking_server_arn": TRACKING_SERVER_ARN},
    "none": {"kind": "none"},
}
SAGEMAKER_ACTIONS = [
    "sagemaker-mlflow:GetModelVersion",
    "sagemaker-mlflow:GetModelVersionByAlias",
    "sagemaker-mlflow:GetRegisteredModel",
    "sagemaker-mlflow:SearchModelVersions",
    "sagemaker-mlflow:SetModelVersionTag",
    "sagemaker-mlflow:SetRegisteredModelAlias",
    "sagemaker-mlflow:TransitionModelVersionStage",
]


def _interpreters() -> list[str]:
    """Python 3.12 (the issue's new user; this machine and CI have it), else this Python."""
    extra = os.environ.get("PROMOTE_MODEL_CDK_PYTHONS", "").split()
    python312 = interpreter("3.12")
    return [str(python312) if python312 else sys.executable, *extra]


def _pip(python: Path, *args: str) -> None:
    subprocess.run(
        [str(python), "-I", "-m", "pip", "--disable-pip-version-check", "--quiet", *args],
        check=True,
        cwd=EXAMPLE,  # not the checkout: nothing of it may be importable but what pip installed
    )


def _library_venv(interpreter: str) -> Path:
    version = subprocess.run(
        [interpreter, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    lock = hashlib.sha256((ROOT / "constraints.txt").read_bytes() + (ROOT / "pyproject.toml").read_bytes())
    home = CACHE / f"py{version}-{lock.hexdigest()[:16]}"
    python = home / "bin" / "python"
    if not (home / ".ready").exists():
        shutil.rmtree(home, ignore_errors=True)
        subprocess.run([interpreter, "-m", "venv", str(home)], check=True)
        (home / ".ready").touch()
    return python


@pytest.fixture(scope="module", params=_interpreters(), ids=lambda python: Path(python).name)
def app_python(request: pytest.FixtureRequest, library_wheel: Path) -> Path:
    """A CDK app's environment with the library installed as the README says: the example's
    requirements.txt, which takes the wheel of ``make dist`` from the checkout's dist/."""
    python = _library_venv(request.param)
    # -I: never the checkout's own promote_model_cdk.egg-info (what `make dist` leaves) for the installed one
    subprocess.run([str(python), "-I", "-m", "pip", "uninstall", "--quiet", "--yes", "promote-model-cdk"], check=False)
    # the library brings its own dependencies: nothing is installed before it
    _pip(python, "install", "-c", str(ROOT / "constraints.txt"), "-r", str(EXAMPLE / "requirements.txt"))
    installed = subprocess.run(
        [str(python), "-I", "-m", "pip", "show", "promote-model-cdk"], capture_output=True, text=True, check=True
    ).stdout
    assert f"Version: {library_wheel.name.split('-')[1]}" in installed
    return python


@pytest.fixture(scope="module")
def example_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("retraining-app")  # shared by the variants: the assets are bundled once


@pytest.fixture(scope="module")
def templates(app_python: Path, example_outdir: Path) -> dict[str, dict[str, Any]]:
    """The example app's template for each auth variant, from ``python app.py`` in its own folder."""
    outdir = example_outdir
    templates = {}
    for name, auth in AUTH_VARIANTS.items():
        env = {
            **os.environ,
            "CDK_OUTDIR": str(outdir),
            "CDK_CONTEXT_JSON": json.dumps({"mlflow_auth": auth}),
            "PYTHONPATH": "",
            # python3.13 byte-compiles the python3.13 bundle (without it there would be no .pyc)
            "PATH": os.pathsep.join([*_python313_dir(outdir), os.environ["PATH"]]),
        }
        synth = subprocess.run(
            [str(app_python), "app.py"], cwd=EXAMPLE, env=env, capture_output=True, text=True, check=False, timeout=300
        )
        assert synth.returncode == 0, synth.stderr[-3000:]
        templates[name] = json.loads((outdir / "Retraining.template.json").read_text())
    return templates


def _python313_dir(outdir: Path) -> list[str]:
    python313 = interpreter("3.13")
    if python313 is None:
        return []
    bin_dir = outdir.parent / "python3.13-bin"
    bin_dir.mkdir(exist_ok=True)
    if not (bin_dir / "python3.13").exists():
        (bin_dir / "python3.13").symlink_to(python313)
    return [str(bin_dir)]


def _function_id(template: dict[str, Any]) -> str:
    [function_id] = [
        k
        for k, v in resources(template, "AWS::Lambda::Function").items()
        if v["Properties"]["Handler"] == "promote_model.handler.lambda_handler"
    ]
    return function_id


def test_the_library_brings_the_cdk_and_none_of_the_functions_runtime_packages(app_python):
    probe = (
        "import importlib.util as u, json; "
        "print(json.dumps({m: u.find_spec(m) is not None for m in "
        "['aws_cdk', 'constructs', 'promote_model_cdk', 'aws_lambda_powertools', 'aws_xray_sdk', 'promote_model', 'infra']}))"
    )

    found = json.loads(
        subprocess.run([str(app_python), "-I", "-c", probe], capture_output=True, text=True, check=True).stdout
    )

    requires = subprocess.run(
        [
            str(app_python),
            "-I",
            "-c",
            "import importlib.metadata as m, json; print(json.dumps(m.requires('promote-model-cdk')))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert [r for r in json.loads(requires) if "extra ==" not in r] == [
        "aws-cdk-lib<3,>=2.252.0",
        "constructs<11,>=10.5.0",
    ]
    assert found == {
        "aws_cdk": True,
        "constructs": True,
        "promote_model_cdk": True,
        "aws_lambda_powertools": False,
        "aws_xray_sdk": False,
        "promote_model": False,  # the function's code is package data of the library, not a package
        "infra": False,  # the app's own infra package is free
    }


def test_the_function_is_bundled_from_the_installed_copy(templates, example_outdir):
    template = templates["basic"]
    function = resources(template, "AWS::Lambda::Function")[_function_id(template)]["Properties"]

    asset = example_outdir / f"asset.{function['Code']['S3Key'].removesuffix('.zip')}"

    handler = asset / "promote_model" / "handler.py"
    assert handler.read_text() == (ROOT / "lambda_src" / "promote_model" / "handler.py").read_text()
    assert (function["Runtime"], function["Architectures"]) == ("python3.13", ["arm64"])
    assert (function["Timeout"], function["MemorySize"]) == (60, 256)
    assert function["Handler"] == "promote_model.handler.lambda_handler"
    if interpreter("3.13") is not None:
        assert (asset / "promote_model" / "__pycache__" / "handler.cpython-313.pyc").is_file()


def test_the_layer_holds_only_aarch64_cpython_3_13_binaries(templates, example_outdir):
    [layer] = resources(templates["basic"], "AWS::Lambda::LayerVersion").values()
    site = example_outdir / f"asset.{layer['Properties']['Content']['S3Key'].removesuffix('.zip')}" / "python"

    extensions = {so.name.split(".")[-2] for so in site.rglob("*.so")}
    assert extensions == {"cpython-313-aarch64-linux-gnu"}
    assert (layer["Properties"]["CompatibleRuntimes"], layer["Properties"]["CompatibleArchitectures"]) == (
        ["python3.13"],
        ["arm64"],
    )
    if interpreter("3.13") is not None:
        assert {pyc.name.split(".")[-2] for pyc in site.rglob("*.pyc")} == {"cpython-313"}


def _common_grants(template: dict[str, Any]) -> list[tuple[list[str], str]]:
    key = json.dumps({"Fn::GetAtt": [only(template, "AWS::KMS::Key"), "Arn"]})
    function_logs = resources(template, "AWS::Lambda::Function")[_function_id(template)]["Properties"]["LoggingConfig"][
        "LogGroup"
    ]["Ref"]
    return [
        (["xray:PutTelemetryRecords", "xray:PutTraceSegments"], json.dumps("*")),
        (["logs:CreateLogStream", "logs:PutLogEvents"], json.dumps({"Fn::GetAtt": [function_logs, "Arn"]})),
        (["sns:Publish"], json.dumps({"Ref": only(template, "AWS::SNS::Topic")})),
        (["kms:Decrypt", "kms:GenerateDataKey*"], key),
        (["events:PutEvents"], json.dumps(DEFAULT_EVENT_BUS_ARN)),
    ]


def _read_secret(resource: Any) -> tuple[list[str], str]:
    return (["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], json.dumps(resource))


def test_each_auth_variant_grants_exactly_what_it_needs(templates):
    expected = {
        "basic": lambda t: [_read_secret({"Ref": only(t, "AWS::SecretsManager::Secret")})],
        "token": lambda t: [_read_secret(SECRET_ARN)],
        "sagemaker": lambda t: [(SAGEMAKER_ACTIONS, json.dumps(TRACKING_SERVER_ARN))],
        "none": lambda t: [],
    }
    for name, extra in expected.items():
        template = templates[name]
        assert function_grants(template, _function_id(template)) == sorted(
            [*_common_grants(template), *extra(template)]
        ), name
        created_secrets = resources(template, "AWS::SecretsManager::Secret")
        assert len(created_secrets) == (1 if name == "basic" else 0), name


def test_sagemaker_variant_sets_the_tracking_server_as_the_tracking_uri(templates):
    template = templates["sagemaker"]
    settings = resources(template, "AWS::Lambda::Function")[_function_id(template)]["Properties"]["Environment"][
        "Variables"
    ]

    assert settings["MLFLOW_TRACKING_URI"] == TRACKING_SERVER_ARN
    assert "MLFLOW_CREDENTIALS_SECRET_ARN" not in settings
    assert (settings["CHALLENGER_ALIAS"], settings["NOTIFICATION_SUBJECT_PREFIX"]) == ("challenger", "[Retraining]")


def test_a_map_promotes_each_model_with_the_fragment_inside_its_iteration(templates):
    states = state_machine_states(templates["basic"])
    function_arn = {"Fn::GetAtt": [_function_id(templates["basic"]), "Arn"]}

    each = states["PromoteEachModel"]
    assert (each["Type"], each["ItemsPath"], each["MaxConcurrency"]) == ("Map", "$.models", 1)
    assert each["Next"] == "DeployChampions"
    assert each["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RetrainingFailed"}]
    iteration = each["ItemProcessor"]["States"]
    assert each["ItemProcessor"]["StartAt"] == "EvaluateModel"
    assert iteration["EvaluateModel"]["Next"] == "IsNewVersionGiven"  # an item without a version: latest Staging
    task = iteration["PromoteModel"]
    assert task["Resource"] == function_arn
    assert task["Parameters"] == {
        "model_name.$": "$.name",
        "new_version.$": "$.version",
        "confidence.$": "$.evaluation.confidence",
        "execution_id.$": "$$.Execution.Id",
    }
    assert task["ResultPath"] == "$.promotion"
    assert [(r["ErrorEquals"][0], r["MaxAttempts"]) for r in task["Retry"]] == [
        ("RegistryUnavailableError", 3),
        ("Lambda.TooManyRequestsException", 6),
    ]
    assert {c["Next"] for c in task["Catch"]} == {"PromotionFailed"}  # a state of the iteration
    assert iteration["WasModelPromoted"]["Default"] == "ChampionKept"


def test_the_example_alarms_on_errors_queues_promotions_and_has_a_dashboard(templates):
    template = templates["basic"]
    [layer] = resources(template, "AWS::Lambda::LayerVersion")
    alarms = [a["Properties"] for a in resources(template, "AWS::CloudWatch::Alarm").values()]
    [rule] = [r["Properties"] for r in resources(template, "AWS::Events::Rule").values()]

    assert layer
    assert ("PromoteModel", "Error") in {(a.get("Namespace"), a.get("MetricName")) for a in alarms}
    assert rule["EventPattern"]["detail"] == {"outcome": ["promoted"]}
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": [only(template, "AWS::SQS::Queue"), "Arn"]}
    assert len(resources(template, "AWS::CloudWatch::Dashboard")) == 1


def test_checkov_finds_nothing_unexplained_in_the_example_app(templates, tmp_path):
    paths = []
    for name in AUTH_VARIANTS:
        paths.append(tmp_path / f"{name}.template.json")
        paths[-1].write_text(json.dumps(templates[name]))

    assert unexplained(scan(checkov_executable(), paths)) == []


def test_the_promote_model_command_says_what_to_install_without_the_cli_extra(app_python):
    command = subprocess.run(
        [str(app_python.parent / "promote-model"), "PascalStrategy"],
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},  # the installed copy, not a checkout
        capture_output=True,
        text=True,
        check=False,
    )

    assert command.returncode == 30
    assert "pip install 'promote-model-cdk[cli]'" in command.stderr


def test_the_installed_library_checks_literal_event_values_with_the_functions_own_rules(app_python):
    probe = (
        "from promote_model_cdk.validation import check_event_literals\n"
        "try:\n"
        "    check_event_literals(model_name='team/ranker')\n"
        "except ValueError as refused:\n"
        "    print(refused)\n"
    )

    command = subprocess.run([str(app_python), "-I", "-c", probe], capture_output=True, text=True, check=True)

    assert "model_name='team/ranker'" in command.stdout
    assert "must not contain '/'" in command.stdout  # the reason the handler's request module gives
