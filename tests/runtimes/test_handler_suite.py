"""The handler's whole behaviour suite (``tests/handler``) under the Pythons of the other Lambda
runtimes, 3.12 and 3.13, as well as this one (3.11): each in a cached venv holding what the handler
imports at run time (the layer's pinned packages and boto3) and what the suite itself needs (pytest,
the MLflow client to arrange registries, requests, trustme, the official sagemaker-mlflow plugin),
all pinned by constraints.txt.

Only the handler's side changes interpreter: the real MLflow and moto servers still run from the dev
venv (``PROMOTE_MODEL_SERVERS_BIN``), which saves a 3.12/3.13 copy of the whole MLflow server.
The venvs live in ``.cache/handler-venvs/`` under the hash of their pins and the interpreter."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from promote_model_cdk.package_data import LAYER_REQUIREMENTS_DIR, LAYER_REQUIREMENTS_FILE
from tests.infra.conftest import ROOT
from tests.interpreters import interpreter

CACHE = ROOT / ".cache" / "handler-venvs"
SUITE = "tests/handler"
SUITE_PACKAGES = ["boto3", "pytest", "mlflow-skinny", "requests", "trustme", "sagemaker-mlflow"]
BUILD_TIMEOUT_SECONDS = 900  # pip resolving ~60 wheels on a shared 2-core machine
SUITE_TIMEOUT_SECONDS = 1800


def _handler_venv(base: Path) -> Path:
    requirements = LAYER_REQUIREMENTS_DIR / LAYER_REQUIREMENTS_FILE
    key = hashlib.sha256(
        requirements.read_bytes() + (ROOT / "constraints.txt").read_bytes() + " ".join(SUITE_PACKAGES).encode()
        + str(base.resolve()).encode()
    ).hexdigest()[:12]  # fmt: skip
    home = CACHE / f"{base.name}-{key}"
    python = home / "bin" / "python"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(home.with_name(home.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second run waits for the first build, never races it
        if not (home / ".built").exists():
            shutil.rmtree(home, ignore_errors=True)
            subprocess.run([str(base), "-m", "venv", str(home)], check=True)
            subprocess.run(
                [str(python), "-I", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                 "-c", str(ROOT / "constraints.txt"), "-r", str(requirements), *SUITE_PACKAGES],
                check=True, timeout=BUILD_TIMEOUT_SECONDS,
            )  # fmt: skip
            (home / ".built").touch()
    # the `promote-model` command some tests run: this checkout's, rebuilt each time (no deps)
    subprocess.run(
        [str(python), "-I", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
         "--force-reinstall", str(ROOT)],
        check=True, timeout=BUILD_TIMEOUT_SECONDS, cwd=CACHE,
    )  # fmt: skip
    return python


def _collected_here() -> int:
    collect = subprocess.run(
        [sys.executable, "-m", "pytest", SUITE, "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(re.search(r"(\d+) tests? collected", collect.stdout).group(1))  # type: ignore[union-attr]


@pytest.mark.parametrize("version", ["3.12", "3.13"])
def test_the_handler_suite_passes_under_python(version):
    base = interpreter(version)
    if base is None:
        pytest.skip(
            f"no Python {version} on this machine (~/.pyenv/versions/{version}.*): CI and the dev machines have one"
        )
    python = _handler_venv(base)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "lambda_src")]),
        "PROMOTE_MODEL_SERVERS_BIN": str(Path(sys.executable).parent),
    }

    run = subprocess.run(
        [str(python), "-m", "pytest", SUITE, "-p", "no:cacheprovider", "-q", "-rfE"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=SUITE_TIMEOUT_SECONDS,
    )  # fmt: skip

    problems = [line for line in run.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    assert run.returncode == 0, "\n".join([*problems, run.stdout[-3000:], run.stderr[-2000:]])
    summary = run.stdout.strip().splitlines()[-1]
    passed = int(re.search(r"(\d+) passed", summary).group(1))  # type: ignore[union-attr]
    assert passed == _collected_here(), summary  # every behaviour, none skipped or deselected
    version_probe = subprocess.run([str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                   capture_output=True, text=True, check=True)  # fmt: skip
    assert version_probe.stdout.strip() == version
