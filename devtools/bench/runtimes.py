"""The handler's cold start per Lambda runtime, for `make bench`: python3.11, python3.12 and
python3.13 on x86_64, each with the bundle synthesized for that runtime (its layer's compiled
wheels and ``.pyc`` files for that ABI), in fresh child processes of that runtime's interpreter,
against the bench's MLflow server; python3.11 is the baseline. A runtime whose interpreter is not
on this machine is reported as absent.

The python3.11 bundle is the run's own (.bench/cdk.out, the dev stack's default); the others are
synthesized once into .bench/runtimes/<runtime>/ and reused while the handler's sources, the layer's
requirements and the constraints are unchanged.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.bench.children import WORK, Children, Variant, log
from devtools.bench.registry import Registry
from devtools.paths import ROOT

RUNTIMES = ("python3.11", "python3.12", "python3.13")
BASELINE_RUNTIME = "python3.11"
STACK = "PromoteModel-dev"
HEADERS = ("Runtime", "Interpreter", "Init p50", "Cold p50", "Cold p95", "Peak RSS", "Cold p50 vs python3.11")

# What the bundle is built from: a change to any of these rebuilds a cached runtime bundle.
_SOURCES = ("lambda_src", "src/promote_model_cdk", "constraints.txt")

_SYNTH = """
import sys
from infra.app_factory import build_app
from tests.infra.conftest import cdk_context
app, stack = build_app(cdk_context("dev", lambda_runtime=sys.argv[2]), outdir=sys.argv[1])
app.synth()
"""


@dataclass(frozen=True)
class RuntimeBundle:
    runtime: str
    python: Path  # the runtime's interpreter on this machine
    version: str  # its full version, e.g. 3.12.1
    code_dir: Path
    layer_dir: Path  # the layer's python/ folder


@dataclass(frozen=True)
class RuntimeColdStarts:
    runtime: str
    version: str | None  # None: no interpreter of this runtime here
    answers: list[dict[str, Any]]  # the worker's cold answers (total_ms, import_ms, peak_rss_kb, ...)


def runtime_python(runtime: str) -> Path | None:
    """The interpreter of ``runtime`` (tests/interpreters.py: pyenv's newest patch release, else PATH)."""
    from tests.interpreters import interpreter

    return interpreter(runtime.removeprefix("python"))


def _full_version(python: Path) -> str:
    command = [str(python), "-c", "import platform; print(platform.python_version())"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


def _sources_digest(python: Path) -> str:
    digest = hashlib.sha256(str(python).encode())
    for source in _SOURCES:
        path = ROOT / source
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts and file.suffix != ".pyc":
                digest.update(file.relative_to(ROOT).as_posix().encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()


def runtime_bundle(runtime: str, python: Path) -> tuple[Path, Path]:
    """The code and layer (python/) directories of the dev stack synthesized for ``runtime``, cached
    under .bench/runtimes/<runtime>/. ``python``'s directory leads PATH during the synth, so the
    bundling byte-compiles with that runtime's interpreter."""
    from devtools.local.workflow import SynthesizedStack

    home = WORK / "runtimes" / runtime
    code_dir, layer_root = home / "code", home / "layer"
    stamp_file, stamp = home / "bench-stamp.txt", _sources_digest(python)
    if stamp_file.exists() and stamp_file.read_text() == stamp:
        return code_dir, layer_root / "python"
    log(f"synthesizing the dev stack for {runtime} into .bench/runtimes/{runtime}")
    shutil.rmtree(home, ignore_errors=True)
    outdir = home / "cdk.out"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    log_path = WORK / "logs" / f"synth-{runtime}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a") as output:
        completed = subprocess.run(
            [sys.executable, "-c", _SYNTH, str(outdir), runtime],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
            check=False,
        )
    if completed.returncode != 0:
        raise SystemExit(f"synthesizing for {runtime} failed (exit {completed.returncode}); see {log_path}")
    stack = SynthesizedStack.load(outdir, STACK)
    shutil.copytree(stack.code_dir, code_dir, symlinks=True)
    shutil.copytree(stack.layer_dir.parent, layer_root, symlinks=True)
    shutil.rmtree(outdir)
    stamp_file.write_text(stamp)
    return code_dir, layer_root / "python"


def runtime_bundles(baseline_code: Path, baseline_layer: Path) -> dict[str, RuntimeBundle | None]:
    """Each runtime's bundle, or None when its interpreter is absent; python3.11's is the run's own."""
    bundles: dict[str, RuntimeBundle | None] = {}
    for runtime in RUNTIMES:
        python = runtime_python(runtime)
        if python is None:
            log(f"{runtime}: no interpreter on this machine; reported as absent")
            bundles[runtime] = None
            continue
        code, layer = (
            (baseline_code, baseline_layer) if runtime == BASELINE_RUNTIME else runtime_bundle(runtime, python)
        )
        bundles[runtime] = RuntimeBundle(runtime, python, _full_version(python), code, layer)
    return bundles


def runtime_cold_starts(
    bundles: Mapping[str, RuntimeBundle | None],
    registry: Registry,
    url: str,
    boto3_dir: Path,
    env: Mapping[str, str | None],
    runs: int,
) -> list[RuntimeColdStarts]:
    """``runs`` cold invocations per present runtime (after one discarded, which writes any missing
    ``.pyc`` of boto3 for that interpreter), round-robin across runtimes so drift hits all alike.

    Each is a real promotion by the handler module as shipped, with ``env`` (the Results table's
    variables) and that runtime's ``AWS_EXECUTION_ENV``."""
    present = {name: bundle for name, bundle in bundles.items() if bundle is not None}
    children = {name: Children(bundle.python) for name, bundle in present.items()}
    variants = {
        name: Variant(
            f"ours-{name}",
            "promote_model.handler",
            (bundle.code_dir, bundle.layer_dir, boto3_dir),
            {**env, "LAMBDA_TASK_ROOT": str(bundle.code_dir), "AWS_EXECUTION_ENV": f"AWS_Lambda_{name}"},
        )
        for name, bundle in present.items()
    }
    events = {name: registry.promotions(f"runtime-{name.replace('.', '')}", runs + 1) for name in present}
    answers: dict[str, list[dict[str, Any]]] = {name: [] for name in present}
    for index in range(runs + 1):
        for name in present:
            answer = children[name].cold(variants[name], events[name][index], url)
            if index:
                answers[name].append(answer)
    return [
        RuntimeColdStarts(name, bundle.version if bundle else None, answers.get(name, []))
        for name, bundle in bundles.items()
    ]


def runtime_rows(samples: Sequence[RuntimeColdStarts]) -> list[list[str]]:
    """The "Cold start per runtime" table: one row per runtime, each compared with python3.11's cold
    p50 in the same run (absent runtimes say so)."""
    from devtools.bench.report import format_mb, format_ms, median, p95

    totals = {s.runtime: [a["total_ms"] for a in s.answers] for s in samples if s.answers}
    baseline = median(totals[BASELINE_RUNTIME]) if BASELINE_RUNTIME in totals else None
    rows = []
    for sample in samples:
        if sample.version is None or not sample.answers:
            rows.append([sample.runtime, "absent (no interpreter on this machine)", *("—" * (len(HEADERS) - 2))])
            continue
        total = totals[sample.runtime]
        if sample.runtime == BASELINE_RUNTIME:
            versus = "baseline"
        elif baseline is None:
            versus = "—"
        else:
            versus = f"{median(total) / baseline:.2f}x"
        rows.append(
            [
                sample.runtime,
                sample.version,
                format_ms(median([a["import_ms"] for a in sample.answers])),
                format_ms(median(total)),
                format_ms(p95(total)) if len(total) > 1 else "—",
                format_mb(median([a["peak_rss_kb"] * 1024 for a in sample.answers])),
                versus,
            ]
        )
    return rows
