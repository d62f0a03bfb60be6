"""Docker-free assets of the function: the dependency layer and the handler code, both taken from
this package's own data (an installed copy carries them), never from a repository path.

Local bundling runs pip for the function's runtime and architecture (``--platform
manylinux2014_x86_64`` or ``manylinux2014_aarch64``, ``--implementation cp``, ``--python-version``
of the runtime, wheels only) on the machine that synthesizes, whatever its Python and machine;
Docker bundling (the runtime's SAM build image on the architecture's platform) stays as the
fallback for machines where local bundling fails.

Both assets are byte-compiled with unchecked-hash .pyc files, because the Lambda runtime cannot
write a ``__pycache__`` next to read-only code and would otherwise compile every module at every
cold start. Only the runtime's own interpreter may compile them (a .pyc is tied to its version):
in-process when the app runs on that version, else ``python3.X`` found on ``PATH``, else nothing is
compiled and the function compiles in memory at each cold start (it works, slower; an info
annotation on the construct says so).
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

from promote_model_cdk.lambda_platform import LambdaPlatform
from promote_model_cdk.package_data import (
    FUNCTION_PACKAGE,
    LAYER_REQUIREMENTS_DIR,
    LAYER_REQUIREMENTS_FILE,
    function_source_dir,
)

_EXCLUDED_FROM_CODE = ["**/__pycache__", "**/*.pyc"]
_COMPILE = "-m compileall -q --invalidation-mode unchecked-hash"


def compiling_python(version: str) -> str | None:
    """An interpreter of ``version`` (``3.13``): this one, or ``python3.13`` on ``PATH`` when it
    really is 3.13 (a pyenv shim of a version that is not active is on ``PATH`` but fails)."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    python = shutil.which(f"python{version}")
    return python if python is not None and runs_as(python, version) else None


def runs_as(python: str | Path, version: str) -> bool:
    """Whether the interpreter ``python`` runs and says it is ``version`` (``3.13``)."""
    try:
        answer = subprocess.run(
            [str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return answer.returncode == 0 and answer.stdout.strip() == version


def _compile(directory: Path, version: str) -> bool:
    """Byte-compile ``directory`` for Python ``version``; False when no such interpreter is here."""
    python = compiling_python(version)
    if python is None:
        print(
            f"promote_model_cdk: no python{version} here (on PATH or running the app), so the bundle is "
            "not byte-compiled (it works; each cold start compiles it in memory)",
            file=sys.stderr,
        )
        return False
    if python == sys.executable:
        compileall.compile_dir(
            str(directory), quiet=1, workers=0, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
        )
    else:
        subprocess.run([python, *_COMPILE.split(), str(directory)], check=True)
    return True


@jsii.implements(ILocalBundling)
class LocalLayerBundling:
    """pip-installs the pinned runtime requirements for ``platform`` into ``<asset>/python``
    without Docker. ``compiled`` tells, once it ran, whether the .pyc files are there."""

    def __init__(self, platform: LambdaPlatform) -> None:
        self._platform = platform
        self.compiled: bool | None = None  # None: not bundled in this process (cached or skipped)

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: Any) -> bool:
        target = Path(output_dir) / "python"
        command = [
            sys.executable, "-m", "pip", "install",
            "--quiet", "--disable-pip-version-check", "--no-deps", "--no-compile",
            "--platform", self._platform.pip_platform, "--implementation", "cp",
            "--python-version", self._platform.python_version,
            "--only-binary=:all:",
            "--target", str(target),
            "-r", str(LAYER_REQUIREMENTS_DIR / LAYER_REQUIREMENTS_FILE),
        ]  # fmt: skip
        try:
            subprocess.run(command, check=True)
        except (OSError, subprocess.CalledProcessError) as error:
            print(f"local bundling of the layer failed ({error}); falling back to Docker", file=sys.stderr)
            return False
        self.compiled = _compile(target, self._platform.python_version)
        return True


@jsii.implements(ILocalBundling)
class LocalCodeBundling:
    """Copies the handler package under ``<asset>/promote_model`` and byte-compiles it."""

    def __init__(self, source: Path, platform: LambdaPlatform) -> None:
        self._source = source
        self._platform = platform
        self.compiled: bool | None = None

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: Any) -> bool:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(self._source, Path(output_dir) / FUNCTION_PACKAGE, ignore=ignore, dirs_exist_ok=True)
        self.compiled = _compile(Path(output_dir), self._platform.python_version)
        return True


def dependencies_layer_code(platform: LambdaPlatform) -> tuple[lambda_.Code, LocalLayerBundling]:
    """The layer asset of ``platform`` and its local bundling: keyed on the requirements folder
    (only the lock file) and the bundling options (the runtime's image, the architecture's
    platform), so editing the handler never re-runs pip and each platform gets its own asset."""
    local = LocalLayerBundling(platform)
    code = lambda_.Code.from_asset(
        str(LAYER_REQUIREMENTS_DIR),
        asset_hash_type=AssetHashType.SOURCE,
        bundling=BundlingOptions(
            image=platform.runtime.bundling_image,
            platform=platform.architecture.docker_platform,
            local=local,
            command=[
                "bash",
                "-c",
                f"pip install --no-deps -r {LAYER_REQUIREMENTS_FILE} -t /asset-output/python "
                f"&& python {_COMPILE} /asset-output/python",
            ],
        ),
    )
    return code, local


def handler_code(platform: LambdaPlatform) -> tuple[lambda_.Code, LocalCodeBundling]:
    """The code asset of ``platform`` (the ``promote_model`` package at the root, as the handler
    path expects) and its local bundling."""
    source = function_source_dir()
    local = LocalCodeBundling(source, platform)
    code = lambda_.Code.from_asset(
        str(source),
        asset_hash_type=AssetHashType.SOURCE,
        exclude=_EXCLUDED_FROM_CODE,
        bundling=BundlingOptions(
            image=platform.runtime.bundling_image,
            platform=platform.architecture.docker_platform,
            local=local,
            command=[
                "bash",
                "-c",
                f"mkdir -p /asset-output/{FUNCTION_PACKAGE} && cp -r /asset-input/. /asset-output/{FUNCTION_PACKAGE}/ "
                f"&& python {_COMPILE} /asset-output",
            ],
        ),
    )
    return code, local
