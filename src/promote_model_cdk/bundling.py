"""Docker-free assets of the function: the dependency layer and the handler code, both taken from
this package's own data (an installed copy carries them), never from a repository path.

Local bundling runs pip for the Lambda's platform (manylinux2014_x86_64, CPython 3.11, wheels only)
on the machine that synthesizes, whatever its Python; Docker bundling stays as the fallback for
machines where local bundling fails. Both assets are byte-compiled for Python 3.11 with
unchecked-hash .pyc files, because the Lambda runtime cannot write a ``__pycache__`` next to
read-only code and would otherwise compile every module at every cold start.
"""

from __future__ import annotations

import compileall
import py_compile
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from promote_model_cdk.constants import FUNCTION_PYTHON_VERSION
from promote_model_cdk.package_data import (
    FUNCTION_PACKAGE,
    LAYER_REQUIREMENTS_DIR,
    LAYER_REQUIREMENTS_FILE,
    function_source_dir,
)

PLATFORM = "manylinux2014_x86_64"
_EXCLUDED_FROM_CODE = ["**/__pycache__", "**/*.pyc"]
_COMPILE = "-m compileall -q --invalidation-mode unchecked-hash"


def _compile(directory: Path) -> None:
    """Byte-compile for the function's Python: in-process on 3.11, else with a python3.11 found on
    PATH, else not at all (the function then compiles in memory at each cold start)."""
    if sys.version_info[:2] == tuple(int(p) for p in FUNCTION_PYTHON_VERSION.split(".")):
        compileall.compile_dir(
            str(directory), quiet=1, workers=0, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
        )
        return
    python = shutil.which(f"python{FUNCTION_PYTHON_VERSION}")
    if python is None:
        print(
            f"promote_model_cdk: no python{FUNCTION_PYTHON_VERSION} on PATH, so the bundle is not "
            "byte-compiled (it works; each cold start compiles it in memory)",
            file=sys.stderr,
        )
        return
    subprocess.run([python, *_COMPILE.split(), str(directory)], check=True)


@jsii.implements(ILocalBundling)
class LocalLayerBundling:
    """pip-installs the pinned runtime requirements into ``<asset>/python`` without Docker."""

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: Any) -> bool:
        target = Path(output_dir) / "python"
        command = [
            sys.executable, "-m", "pip", "install",
            "--quiet", "--disable-pip-version-check", "--no-deps", "--no-compile",
            "--platform", PLATFORM, "--implementation", "cp", "--python-version", FUNCTION_PYTHON_VERSION,
            "--only-binary=:all:",
            "--target", str(target),
            "-r", str(LAYER_REQUIREMENTS_DIR / LAYER_REQUIREMENTS_FILE),
        ]  # fmt: skip
        try:
            subprocess.run(command, check=True)
        except (OSError, subprocess.CalledProcessError) as error:
            print(f"local bundling of the layer failed ({error}); falling back to Docker", file=sys.stderr)
            return False
        _compile(target)
        return True


@jsii.implements(ILocalBundling)
class LocalCodeBundling:
    """Copies the handler package under ``<asset>/promote_model`` and byte-compiles it."""

    def __init__(self, source: Path) -> None:
        self._source = source

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: Any) -> bool:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(self._source, Path(output_dir) / FUNCTION_PACKAGE, ignore=ignore, dirs_exist_ok=True)
        _compile(Path(output_dir))
        return True


def dependencies_layer_code() -> lambda_.Code:
    """The layer asset: keyed on the requirements folder (only the lock file), so editing the
    handler never re-runs pip."""
    return lambda_.Code.from_asset(
        str(LAYER_REQUIREMENTS_DIR),
        asset_hash_type=AssetHashType.SOURCE,
        bundling=BundlingOptions(
            image=lambda_.Runtime.PYTHON_3_11.bundling_image,
            local=LocalLayerBundling(),
            command=[
                "bash",
                "-c",
                f"pip install --no-deps -r {LAYER_REQUIREMENTS_FILE} -t /asset-output/python "
                f"&& python {_COMPILE} /asset-output/python",
            ],
        ),
    )


def handler_code() -> lambda_.Code:
    """The code asset: the ``promote_model`` package at the root, as the handler path expects."""
    source = function_source_dir()
    return lambda_.Code.from_asset(
        str(source),
        asset_hash_type=AssetHashType.SOURCE,
        exclude=_EXCLUDED_FROM_CODE,
        bundling=BundlingOptions(
            image=lambda_.Runtime.PYTHON_3_11.bundling_image,
            local=LocalCodeBundling(source),
            command=[
                "bash",
                "-c",
                f"mkdir -p /asset-output/{FUNCTION_PACKAGE} && cp -r /asset-input/. /asset-output/{FUNCTION_PACKAGE}/ "
                f"&& python {_COMPILE} /asset-output",
            ],
        ),
    )


def dependencies_layer(scope: Construct, id: str) -> lambda_.LayerVersion:
    """The layer of the function's third-party packages, for the promotion function and the webhook receiver."""
    return lambda_.LayerVersion(
        scope,
        id,
        code=dependencies_layer_code(),
        compatible_runtimes=[lambda_.Runtime.PYTHON_3_11],
        compatible_architectures=[lambda_.Architecture.X86_64],
        description="promote-model runtime dependencies (promote_model_cdk/layer/requirements.txt)",
    )
