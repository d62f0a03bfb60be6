"""Virtualenvs that run older MLflow servers for the compatibility tests, built once and cached.

Each server series has its pins in ``requirements/mlflow-server-<series>.txt`` (every package
pinned exactly). Its venv lives in ``.cache/mlflow-servers/<mlflow version>-<hash of the pins and
the interpreter>/``, so a change to the pins builds a new venv beside the old one instead of
patching it. A file lock makes a second process wait for the first build rather than race it, and
the venv counts as built only once its marker file exists, so an interrupted build is redone.

``python -m devtools.local.server_venvs 2.9 2.22`` builds them ahead of a test run (the tests build them
on first use anyway).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devtools.paths import ROOT

REQUIREMENTS_DIR = ROOT / "requirements"
CACHE_DIR = ROOT / ".cache" / "mlflow-servers"
_BUILT_MARKER = ".built"
# pip resolving and unpacking ~60 wheels on a shared 2-core machine: generous, but bounded.
INSTALL_TIMEOUT_SECONDS = 900


def pins_file(series: str) -> Path:
    return REQUIREMENTS_DIR / f"mlflow-server-{series}.txt"


def pinned_mlflow_version(pins: Path) -> str:
    for line in _pin_lines(pins):
        if line.lower().startswith("mlflow=="):
            return line.split("==", 1)[1].strip()
    raise ValueError(f"{pins} pins no mlflow==<version>")


def venv_dir(series: str) -> Path:
    pins = pins_file(series)
    # Keyed on the pins themselves (a comment edit rebuilds nothing) and on the interpreter, since a
    # venv's scripts point at the Python that built it.
    key = "\n".join([*sorted(_pin_lines(pins)), sys.version])
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return CACHE_DIR / f"{pinned_mlflow_version(pins)}-{digest}"


def _pin_lines(pins: Path) -> list[str]:
    return [
        line.strip() for line in pins.read_text().splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]


def mlflow_executable(series: str) -> Path:
    """The ``mlflow`` command of the series' venv, building the venv first if it is not cached."""
    target = venv_dir(series)
    if not (target / _BUILT_MARKER).exists():
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        with _exclusive(target.with_name(target.name + ".lock")):
            if not (target / _BUILT_MARKER).exists():  # another process may have built it meanwhile
                _build(target, pins_file(series))
    return target / "bin" / "mlflow"


def _build(target: Path, pins: Path) -> None:
    if sys.version_info[:2] != (3, 11):
        raise RuntimeError(f"the MLflow server venvs are built with Python 3.11, not {sys.version.split()[0]}")
    shutil.rmtree(target, ignore_errors=True)  # what an interrupted build left
    # No pip inside the venv: the dev venv's pip installs into it (``--python``), which saves
    # bootstrapping a second pip.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(target)], check=True)
    python = target / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check"]
    # --no-deps: the pins file is the whole environment, so nothing unpinned can slip in;
    # `pip check` then proves the pinned set is complete and consistent.
    subprocess.run(
        [*pip, "install", "--quiet", "--no-deps", "--only-binary=:all:", "-r", str(pins)],
        check=True,
        timeout=INSTALL_TIMEOUT_SECONDS,
        env={**os.environ, "PIP_NO_INPUT": "1"},
    )
    check = subprocess.run([*pip, "check"], capture_output=True, text=True, timeout=120, check=False)
    if check.returncode != 0:
        raise RuntimeError(f"{pins} is not a complete, consistent set of pins:\n{check.stdout}{check.stderr}")
    (target / _BUILT_MARKER).write_text(pins.read_text())


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes, also if this process dies
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def main(argv: list[str]) -> int:
    for series in argv or ["2.9", "2.22"]:
        print(mlflow_executable(series))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
