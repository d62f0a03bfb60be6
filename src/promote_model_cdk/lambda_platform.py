"""The Lambda runtimes and architectures the function supports, and what each one means for the
bundle: the interpreter that byte-compiles it, and the pip platform and ABI of its compiled wheels.

python3.11 on x86_64 is the specification's default; python3.12 and python3.13 (Amazon Linux 2023)
and arm64 (Graviton) are choices (docs/platform.md says which to pick and why).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_lambda as lambda_

from promote_model_cdk.constants import (
    DEFAULT_ARCHITECTURE,
    DEFAULT_RUNTIME,
    PIP_PLATFORM_OF_ARCHITECTURE,
    PYTHON_VERSION_OF_RUNTIME,
)

# The CDK's own objects for each supported name, so the function and the layer carry the canonical
# ones (their bundling image and Docker platform included).
_RUNTIMES = {
    "python3.11": lambda_.Runtime.PYTHON_3_11,
    "python3.12": lambda_.Runtime.PYTHON_3_12,
    "python3.13": lambda_.Runtime.PYTHON_3_13,
}
_ARCHITECTURES = {"x86_64": lambda_.Architecture.X86_64, "arm64": lambda_.Architecture.ARM_64}
assert set(_RUNTIMES) == set(PYTHON_VERSION_OF_RUNTIME)
assert set(_ARCHITECTURES) == set(PIP_PLATFORM_OF_ARCHITECTURE)


@dataclass(frozen=True)
class LambdaPlatform:
    """A supported runtime on a supported architecture (build one with ``lambda_platform``)."""

    runtime: lambda_.Runtime
    architecture: lambda_.Architecture

    @property
    def python_version(self) -> str:
        """``3.13`` for python3.13: the interpreter that compiles the bundle's ``.pyc`` files."""
        return PYTHON_VERSION_OF_RUNTIME[self.runtime.name]

    @property
    def pip_platform(self) -> str:
        """The manylinux tag pip downloads compiled wheels for (Lambda's glibc is newer than 2.17)."""
        return PIP_PLATFORM_OF_ARCHITECTURE[self.architecture.name]

    @property
    def key(self) -> str:
        """``python3.13-arm64``: one dependency layer per key is enough for any number of functions."""
        return f"{self.runtime.name}-{self.architecture.name}"


def lambda_platform(
    runtime: lambda_.Runtime | None = None, architecture: lambda_.Architecture | None = None
) -> LambdaPlatform:
    """The platform of ``runtime`` (default python3.11) on ``architecture`` (default x86_64).

    Raises ``ValueError`` naming the prop and the allowed values for anything else (another runtime
    family or version, a custom architecture): the bundle is built for exactly these.
    """
    runtime_name = DEFAULT_RUNTIME if runtime is None else runtime.name
    architecture_name = DEFAULT_ARCHITECTURE if architecture is None else architecture.name
    if runtime_name not in _RUNTIMES:
        raise ValueError(
            "runtime must be aws_lambda.Runtime.PYTHON_3_11, PYTHON_3_12 or PYTHON_3_13 "
            f"(default {DEFAULT_RUNTIME}), got {runtime_name!r}"
        )
    if architecture_name not in _ARCHITECTURES:
        raise ValueError(
            "architecture must be aws_lambda.Architecture.X86_64 or aws_lambda.Architecture.ARM_64 "
            f"(default {DEFAULT_ARCHITECTURE}), got {architecture_name!r}"
        )
    return LambdaPlatform(runtime=_RUNTIMES[runtime_name], architecture=_ARCHITECTURES[architecture_name])
