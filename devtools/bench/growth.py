"""The growth part of `make bench`: promotion time and peak RSS for models with 10, 1,000 and 5,000 versions.

The models are built once, with the registry's own client (mlflow's ``MlflowClient`` on the SQLite
store, in a child process of the development environment), into a database cached in
.bench/growth/ under a key of what built it (the MLflow version, the sizes and this file's build
code). Each run promotes on a fresh copy of it, served by its own ``mlflow server``.

Model ``growth-N`` has versions 1..N: 1..N-3 registered and never promoted (stage None), N-2 in
Production, N-1 and N in Staging. The timed promotions alternate N-1 and N (explicit
``new_version``), so each promotes a version that is not in Production and archives the other,
and the model keeps its N versions.

Run as ``python -m devtools.bench.growth build DB`` it builds that database (what ``growth_database``
runs).
"""

from __future__ import annotations

import hashlib
import inspect
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

from devtools.bench.children import WORK, Children, Server, Variant, check_promoted, log
from devtools.bench.routes import Call, medians, time_call
from devtools.paths import ROOT

SIZES = (10, 1_000, 5_000)
GROWTH_DIR = WORK / "growth"
ARTIFACTS = "s3://promote-model-bench/artifacts"
# Our verification reads the versions updated within this long before its transition (promotion/settling.py's
# CONCURRENCY_WINDOW_MS): a model built moments ago would have all its versions in that window,
# which no model with a history has. The growth runs wait until the build is this old.
SETTLED_SECONDS = 61


def model_name(size: int) -> str:
    return f"growth-{size}"


def _build(db: Path) -> None:
    """Every growth model, through MlflowClient on the SQLite store (no server: one create per version)."""
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{db}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    for size in SIZES:
        name = model_name(size)
        client.create_registered_model(name)
        for _ in range(size):
            client.create_model_version(name, ARTIFACTS)
        client.transition_model_version_stage(name, str(size - 2), "Production")
        for version in (size - 1, size):
            client.transition_model_version_stage(name, str(version), "Staging")


def _cache_key() -> str:
    built_by = "\n".join([metadata.version("mlflow"), repr(SIZES), ARTIFACTS, inspect.getsource(_build)])
    return hashlib.sha256(built_by.encode()).hexdigest()[:16]


def growth_database() -> Path:
    """The cached database of the growth models, built now if missing (about a minute on 2 cores)."""
    db = GROWTH_DIR / f"mlflow-{_cache_key()}.db"
    if db.exists():
        log(f"growth models: cached in {db.relative_to(ROOT)}")
        return db
    shutil.rmtree(GROWTH_DIR, ignore_errors=True)
    GROWTH_DIR.mkdir(parents=True)
    # Built on tmpfs when there is one: the store commits (and syncs) once per version, and the disk's
    # syncs, not the work, would take most of the time. The calls and the database are the same.
    scratch = Path(
        tempfile.mkdtemp(prefix="promote-model-bench-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None)
    )
    partial = scratch / "mlflow.db"
    log(f"growth models: building {', '.join(f'{s:,}' for s in SIZES)} versions with MlflowClient")
    started = time.monotonic()
    with (WORK / "logs" / "growth-build.log").open("a") as output:
        completed = subprocess.run(
            [sys.executable, "-m", "devtools.bench.growth", "build", str(partial)],
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env={"PATH": "/usr/bin:/bin", "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"},
            check=False,
        )
    if completed.returncode != 0:
        shutil.rmtree(scratch, ignore_errors=True)
        raise SystemExit("building the growth models failed; see .bench/logs/growth-build.log")
    shutil.move(partial, db)
    shutil.rmtree(scratch, ignore_errors=True)
    log(f"growth models: built in {time.monotonic() - started:.0f} s")
    return db


@dataclass
class GrowthSample:
    """One variant at one size: warm promotion times (ms) and cold processes' peak RSS (kB)."""

    warm_ms: list[float] = field(default_factory=list)
    peak_rss_kb: list[int] = field(default_factory=list)


@dataclass
class Growth:
    samples: dict[int, dict[str, GrowthSample]]  # size -> variant name -> sample
    routes: dict[int, dict[str, float]]  # size -> MLflow route -> median time of one request (ms)


# The registry's reads of a promotion, each timed alone against the growth server: where a
# promotion's time goes as the model grows (the transition itself is in the promotions).
ROUTE_SAMPLES = 7


def _reads(size: int) -> dict[str, Call]:
    name = model_name(size)
    return {
        "GET registered-models/get (both)": ("GET", "registered-models/get", {"name": name}),
        "GET model-versions/get (both, explicit)": ("GET", "model-versions/get", {"name": name, "version": str(size)}),
        "GET model-versions/search, newest first, 100 (ours: the verification)": (
            "GET",
            "model-versions/search",
            {"filter": f"name = '{name}'", "max_results": "100", "order_by": "last_updated_timestamp DESC"},
        ),
        "POST registered-models/get-latest-versions, Staging (baseline: fallback)": (
            "POST",
            "registered-models/get-latest-versions",
            {"name": name, "stages": ["Staging"]},
        ),
    }


@dataclass(frozen=True)
class GrowthPlan:
    warm: int  # timed warm promotions per variant and size
    cold: int  # cold processes per variant and size (peak RSS)
    warmup: int = 3  # untimed warm promotions first


def _alternating(size: int) -> Iterator[dict[str, Any]]:
    """Explicit promotions of N-1, N, N-1, ...: each of a version not in Production."""
    name = model_name(size)
    while True:
        for version in (size - 1, size):
            yield {"model_name": name, "new_version": str(version), "confidence": 0.85}


def measure_growth(children: Children, db: Path, variants: tuple[Variant, ...], plan: GrowthPlan) -> Growth:
    """On a fresh copy of the cached database: the reads alone per size, then warm promotions (one
    long-lived process per variant; sizes and variants interleaved), then ``plan.cold`` cold processes
    per variant and size."""
    from devtools.local.servers import mlflow_server

    wait = SETTLED_SECONDS - (time.time() - db.stat().st_mtime)
    if wait > 0:
        log(f"growth: waiting {wait:.0f} s, until the freshly built versions are older than the verification's window")
        time.sleep(wait)
    workdir = WORK / "growth-mlflow"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    shutil.copyfile(db, workdir / "mlflow.db")
    growth = Growth({size: {v.name: GrowthSample() for v in variants} for size in SIZES}, {})
    with mlflow_server(workdir) as server:
        log(f"growth: the reads alone, {ROUTE_SAMPLES} of each per size, after 3 untimed rounds")
        reads = {(size, label): call for size in SIZES for label, call in _reads(size).items()}
        timed = medians(ROUTE_SAMPLES, {f"{s} {label}": partial(time_call, server.url, call) for (s, label), call in reads.items()},
                        discard=3)  # fmt: skip
        for size, label in reads:
            growth.routes.setdefault(size, {})[label] = timed[f"{size} {label}"]
        log(f"growth: {plan.warm} warm promotions per handler and size, sizes and handlers interleaved")
        events = {size: _alternating(size) for size in SIZES}
        with _all_serving(children, variants, server.url) as servers:
            for index in range(1 + plan.warmup + plan.warm):
                for size in SIZES:
                    for running in servers:
                        event = next(events[size])
                        elapsed, result = running.invoke(event)
                        check_promoted(running.variant, result, event)
                        if index > plan.warmup:  # the first is the cold one, then the untimed warm ones
                            growth.samples[size][running.variant.name].warm_ms.append(elapsed)
        log(f"growth: {plan.cold} cold processes per handler and size")
        for _ in range(plan.cold):
            for size in SIZES:
                for variant in variants:
                    answer = children.cold(variant, next(events[size]), server.url)
                    growth.samples[size][variant.name].peak_rss_kb.append(int(answer["peak_rss_kb"]))
    return growth


@contextmanager
def _all_serving(children: Children, variants: tuple[Variant, ...], url: str) -> Iterator[list[Server]]:
    """One long-lived worker per variant, all running at once."""
    with ExitStack() as stack:
        yield [stack.enter_context(children.serving(v, url)) for v in variants]


if __name__ == "__main__":
    if sys.argv[1:2] != ["build"] or len(sys.argv) != 3:
        raise SystemExit("usage: python -m devtools.bench.growth build DB")
    _build(Path(sys.argv[2]))
