"""The Python interpreters of the Lambda runtimes (3.11, 3.12, 3.13) on this machine (pyenv's
``~/.pyenv/versions/3.X.*``, which this machine and CI have, else a ``python3.X`` on ``PATH`` that
really runs: a pyenv shim of an inactive version is on ``PATH`` but fails), and the Node.js binaries
npm installs for the tests."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

from promote_model_cdk.bundling import runs_as

PYENV_VERSIONS = Path.home() / ".pyenv" / "versions"
LAMBDA_PYTHONS = ("3.11", "3.12", "3.13")


@functools.cache
def interpreter(version: str) -> Path | None:
    """The interpreter of ``version`` (``"3.13"``), the newest pyenv patch release first."""
    candidates = sorted(
        PYENV_VERSIONS.glob(f"{version}.*/bin/python{version}"),
        key=lambda p: [int(part) if part.isdigit() else 0 for part in p.parts[-3].split(".")],
        reverse=True,
    )
    on_path = shutil.which(f"python{version}")
    for candidate in [*candidates, *([Path(on_path)] if on_path else [])]:
        if runs_as(candidate, version):
            return candidate
    return None


def node_binary(major: int) -> Path:
    """The Node.js ``major`` binary that ``npm ci`` put in ``node_modules/node<major>`` (package.json's
    optional dependencies, Linux x64 only; the README's platform notes say so)."""
    node = Path(__file__).resolve().parent.parent / "node_modules" / f"node{major}" / "bin" / "node"
    assert node.is_file(), f"{node} is missing: run `make node_modules/.installed` (npm ci) on Linux x64"
    return node
