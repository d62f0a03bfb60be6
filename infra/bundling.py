"""Docker-free assets of the function: the dependency layer and the handler code.

Local bundling runs pip for the Lambda's platform (manylinux2014_x86_64, CPython 3.11, wheels only)
on the machine that synthesizes; Docker bundling stays as the fallback for machines where local
bundling fails. Both assets are byte-compiled with unchecked-hash .pyc files, because the Lambda
runtime cannot write a ``__pycache__`` next to read-only code and would otherwise compile every
module at every cold start.
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

from infra.constants import LAMBDA_SOURCE_DIR, LAYER_REQUIREMENTS_DIR, LAYER_REQUIREMENTS_FILE

PLATFORM = "manylinux2014_x86_64"
PYTHON_VERSION = "3.11"
_EXCLUDED_FROM_CODE = ["**/__pycache__", "**/*.pyc", "*.egg-info"]


def _compile(directory: Path) -> None:
    compileall.compile_dir(
        str(directory),
        quiet=1,
        workers=0,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )


@jsii.implements(ILocalBundling)
class LocalLayerBundling:
    """pip-installs the pinned runtime requirements into ``<asset>/python`` without Docker."""

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: Any) -> bool:
        target = Path(output_dir) / "python"
        command = [
            sys.executable, "-m", "pip", "install",
            "--quiet", "--disable-pip-version-check", "--no-deps", "--no-compile",
            "--platform", PLATFORM, "--implementation", "cp", "--python-version", PYTHON_VERSION,
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
    """Copies the handler package and byte-compiles it."""

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: Any) -> bool:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
        shutil.copytree(LAMBDA_SOURCE_DIR, output_dir, ignore=ignore, dirs_exist_ok=True)
        _compile(Path(output_dir))
        return True


def dependencies_layer_code() -> lambda_.Code:
    """The layer asset: keyed on the requirements folder (only the lock file), so editing the
    handler never re-runs pip."""
    image = lambda_.Runtime.PYTHON_3_11.bundling_image
    return lambda_.Code.from_asset(
        str(LAYER_REQUIREMENTS_DIR),
        asset_hash_type=AssetHashType.SOURCE,
        bundling=BundlingOptions(
            image=image,
            local=LocalLayerBundling(),
            command=[
                "bash",
                "-c",
                f"pip install --no-deps -r {LAYER_REQUIREMENTS_FILE} -t /asset-output/python "
                "&& python -m compileall -q --invalidation-mode unchecked-hash /asset-output/python",
            ],
        ),
    )


def handler_code() -> lambda_.Code:
    image = lambda_.Runtime.PYTHON_3_11.bundling_image
    return lambda_.Code.from_asset(
        str(LAMBDA_SOURCE_DIR),
        asset_hash_type=AssetHashType.SOURCE,
        exclude=_EXCLUDED_FROM_CODE,
        bundling=BundlingOptions(
            image=image,
            local=LocalCodeBundling(),
            command=[
                "bash",
                "-c",
                "cp -r /asset-input/. /asset-output/ "
                "&& python -m compileall -q --invalidation-mode unchecked-hash /asset-output",
            ],
        ),
    )
