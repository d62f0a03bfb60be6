"""`make bench`: our bundled handler against the obvious mlflow-skinny handler, in one run.

Synthesizes the dev stack into .bench/cdk.out (the bundle the stack ships), builds the benchmark's
own environment (.bench/venv: mlflow-skinny and Powertools for the baseline; .bench/boto3: boto3 as
the Lambda runtime provides it), starts a real MLflow server, and measures init, cold and warm
invocations (with the defaults and with detailed tracing too), peak RSS, MLflow requests and
sequential round trips per promotion (devtools/bench/counts.py), bundle sizes, what the Powertools
Tracer costs at import, and how a promotion's cost grows with a model's history
(devtools/bench/growth.py), and the webhook receiver's cold start (devtools/bench/receiver.py). Every
timing runs in a fresh child process of the same interpreter
(devtools/bench/children.py, devtools/bench/worker.py). Prints the tables and writes them, with the
machine it ran on, to docs/performance.md (devtools/bench/report.py, devtools/bench/performance_doc.py).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import py_compile
import shutil
import subprocess
import sys
import time
import venv
import zipfile
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from devtools.bench.children import WORK, Children, Variant, check_promoted, log
from devtools.bench.counts import promotion_rounds
from devtools.bench.growth import GrowthPlan, growth_database, measure_growth
from devtools.bench.performance_doc import performance_markdown
from devtools.bench.receiver import MODULE as RECEIVER_MODULE
from devtools.bench.receiver import receiver_cold_starts
from devtools.bench.registry import Registry
from devtools.bench.report import BundleSize, Plan, Report, machine
from devtools.bench.routes import write_costs
from devtools.bench.runtimes import runtime_bundles, runtime_cold_starts
from devtools.paths import ROOT

DOC = ROOT / "docs" / "performance.md"
BASELINE_SOURCE = Path(__file__).with_name("baseline_handler.py")
STACK = "PromoteModel-dev"

WARMUP = 5  # untimed warm invocations before the timed ones

OURS_MODULE = "promote_model.handler"
BASELINE_MODULE = "bench_baseline_handler"
# The spec's flow: no alias, no audit tags (what the baseline does too); alerts are off throughout.
SPEC_FLOW = {"PROMOTION_ALIAS": "", "AUDIT_TAGS_ENABLED": "false"}
NO_EVENTS = {"EVENT_BUS_NAME": ""}  # the Model Promotion event would try a real AWS endpoint
# Shipped by the Lambda Python runtime, so not counted in the baseline's bundle (ours ships none).
LAMBDA_PROVIDED = {"boto3", "botocore", "s3transfer", "urllib3", "python-dateutil", "six"}
NOT_DEPENDENCIES = {"pip", "setuptools", "wheel"}

POWERTOOLS_LOGGER_METRICS = (
    "from aws_lambda_powertools import Logger, Metrics\n"
    "Logger(service='promote-model')\n"
    "Metrics(namespace='PromoteModel', service='promote-model')\n"
)
POWERTOOLS_WITH_TRACER = (
    POWERTOOLS_LOGGER_METRICS + "from aws_lambda_powertools import Tracer\nTracer(service='promote-model')\n"
)

# With tracing on, a Tracer that patches only http.client (what reaches MLflow and SNS) instead of
# every library it knows: Powertools' Tracer given patch_modules, before our handler asks for it.
HTTPLIB_ONLY_TRACER = (
    "import functools, aws_lambda_powertools\n"
    "aws_lambda_powertools.Tracer = functools.partial(aws_lambda_powertools.Tracer, patch_modules=['httplib'])\n"
)
POWERTOOLS_WITH_HTTPLIB_TRACER = (
    POWERTOOLS_LOGGER_METRICS
    + "from aws_lambda_powertools import Tracer\nTracer(service='promote-model', patch_modules=['httplib'])\n"
)


def _pinned(package: str) -> str:
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        name, _, version = line.partition("==")
        if name.strip().lower().replace("_", "-") == package:
            return version.strip()
    raise SystemExit(f"{package} is not pinned in constraints.txt")


BENCH_REQUIREMENTS = [
    "mlflow-skinny==3.17.2",
    "aws-lambda-powertools==3.37.0",
    "aws-xray-sdk==2.15.0",
    f"boto3=={_pinned('boto3')}",
]


QUICK = Plan(
    init=3, cold=3, cold_traced=3, warm=5, writes=3, growth=GrowthPlan(warm=3, cold=1), runtime_cold=3
)  # --quick: no document
# Detailed tracing on, as the stack's detailed_tracing gives the function (infra/constructs/function.py) and
# the Lambda runtime then sets; no X-Ray daemon listens (UDP datagrams: the SDK never waits for one).
TRACED = {"POWERTOOLS_TRACE_DISABLED": "false", "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
          "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR"}  # fmt: skip
SAMPLED_TRACE_ID = "Root=1-6745a1b2-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1"


# --- the bundle and the benchmark's environment ------------------------------------------------

_SYNTH = """
import sys
from infra.app_factory import build_app
from tests.infra.conftest import cdk_context
app, stack = build_app(cdk_context("dev"), outdir=sys.argv[1])
app.synth()
"""


@dataclass(frozen=True)
class Bundle:
    code_dir: Path
    layer_dir: Path  # the layer's python/ folder


def synthesize(outdir: Path) -> Bundle:
    from devtools.local.workflow import SynthesizedStack

    shutil.rmtree(outdir, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    _run_logged([sys.executable, "-c", _SYNTH, str(outdir)], WORK / "logs" / "synth.log", env=env)
    stack = SynthesizedStack.load(outdir, STACK)
    return Bundle(stack.code_dir, stack.layer_dir)


@dataclass(frozen=True)
class BenchEnvironment:
    python: Path
    site_packages: Path
    boto3_dir: Path  # boto3 and its dependencies only: what the Lambda runtime provides
    baseline_dir: Path  # the baseline handler file, byte-compiled


def bench_environment() -> BenchEnvironment:
    home = WORK / "venv"
    python = home / "bin" / "python"
    constraints = ROOT / "constraints.txt"
    stamp = "\n".join([*BENCH_REQUIREMENTS, hashlib.sha256(constraints.read_bytes()).hexdigest()])
    stamp_file = home / "bench-stamp.txt"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-c", str(constraints)]
    if not python.exists() or not stamp_file.exists() or stamp_file.read_text() != stamp:
        log(f"building {home.relative_to(ROOT)}: {' '.join(BENCH_REQUIREMENTS)}")
        venv.create(home, with_pip=True, clear=True)
        _run_logged([*pip, *BENCH_REQUIREMENTS], WORK / "logs" / "venv.log")
        stamp_file.write_text(stamp)
    boto3_dir = WORK / "boto3"
    boto3_stamp = boto3_dir / "bench-stamp.txt"
    if not boto3_stamp.exists() or boto3_stamp.read_text() != stamp:
        shutil.rmtree(boto3_dir, ignore_errors=True)
        _run_logged([*pip, "--target", str(boto3_dir), BENCH_REQUIREMENTS[-1]], WORK / "logs" / "venv.log")
        boto3_stamp.write_text(stamp)
    [site_packages] = (home / "lib").glob("python3.*/site-packages")
    baseline_dir = WORK / "baseline"
    shutil.rmtree(baseline_dir, ignore_errors=True)
    baseline_dir.mkdir(parents=True)
    shutil.copy2(BASELINE_SOURCE, baseline_dir / f"{BASELINE_MODULE}.py")
    py_compile.compile(str(baseline_dir / f"{BASELINE_MODULE}.py"), doraise=True)
    return BenchEnvironment(python, site_packages, boto3_dir, baseline_dir)


def _run_logged(command: Sequence[str], log_path: Path, *, env: Mapping[str, str] | None = None) -> None:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a") as output:
        completed = subprocess.run(command, stdout=output, stderr=subprocess.STDOUT, env=env, cwd=ROOT, check=False)
    if completed.returncode != 0:
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])
        raise SystemExit(f"{command[:4]} failed (exit {completed.returncode}); see {log_path}:\n{tail}")


# --- measurements --------------------------------------------------------------------------------


def interleaved(runs: int, measures: Mapping[str, Callable[[], float]]) -> dict[str, list[float]]:
    """Each measure ``runs`` times, round-robin (drift hits all alike), after one discarded round."""
    samples: dict[str, list[float]] = {name: [] for name in measures}
    for round_number in range(runs + 1):
        for name, measure in measures.items():
            value = measure()
            if round_number:
                samples[name].append(value)
    return samples


def cold_timings(
    children: Children,
    registry: Registry,
    url: str,
    plan: Plan,
    variants: tuple[Variant, ...],
    traced: tuple[Variant, ...],
) -> dict[str, list[dict[str, Any]]]:
    """Cold invocations, round-robin; the traced variants take part in the first ``plan.cold_traced``."""
    everyone = variants + traced
    events = {v.name: registry.promotions(f"cold-{v.name}", plan.cold + 1) for v in everyone}
    cold: dict[str, list[dict[str, Any]]] = {v.name: [] for v in everyone}
    for index in range(plan.cold + 1):
        for variant in variants + (traced if index <= plan.cold_traced else ()):
            answer = children.cold(variant, events[variant.name][index], url)
            if index:  # the first of each only warms the page cache and writes any missing .pyc
                cold[variant.name].append(answer)
    return cold


def warm_timings(
    children: Children, registry: Registry, url: str, variants: tuple[Variant, ...], runs: int
) -> dict[str, list[float]]:
    """One long-lived process per variant, invoked round-robin: one cold, WARMUP untimed, ``runs`` timed."""
    events = {v.name: registry.promotions(f"warm-{v.name}", 1 + WARMUP + runs) for v in variants}
    timings: dict[str, list[float]] = {v.name: [] for v in variants}
    with ExitStack() as stack:
        servers = [stack.enter_context(children.serving(v, url)) for v in variants]
        for index in range(1 + WARMUP + runs):
            for server in servers:
                event = events[server.variant.name][index]
                elapsed, result = server.invoke(event)
                check_promoted(server.variant, result, event)
                if index > WARMUP:
                    timings[server.variant.name].append(elapsed)
    return timings


def bundle_size(roots: Sequence[tuple[Path, Sequence[Path]]]) -> BundleSize:
    """Sizes of the zips Lambda would get: one per (root, files) pair, DEFLATED, summed."""
    files = unzipped = zipped = 0
    for root, paths in roots:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(paths):
                archive.write(path, path.relative_to(root).as_posix())
                files += 1
                unzipped += path.stat().st_size
        zipped += len(buffer.getvalue())
    return BundleSize(files, unzipped, zipped)


def _tree(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.is_file()]


def baseline_bundle_files(site_packages: Path) -> tuple[list[Path], list[str]]:
    """The files of every distribution in the benchmark environment except what Lambda provides."""
    files: set[Path] = set()
    names = []
    for dist in metadata.distributions(path=[str(site_packages)]):
        name = dist.metadata["Name"].lower().replace("_", "-")
        if name in LAMBDA_PROVIDED or name in NOT_DEPENDENCIES:
            continue
        names.append(f"{name}=={dist.version}")
        for entry in dist.files or []:
            path = Path(str(dist.locate_file(entry))).resolve()
            if path.is_file() and path.is_relative_to(site_packages.resolve()):
                files.add(path)
    return sorted(files), sorted(names)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a few runs of each, to check the bench; no document")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else Plan()
    started = time.monotonic()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    WORK.mkdir(exist_ok=True)
    shutil.rmtree(WORK / "logs", ignore_errors=True)
    (WORK / "logs").mkdir()
    log("synthesizing the dev stack into .bench/cdk.out")
    bundle = synthesize(WORK / "cdk.out")
    log(f"bundle: code {bundle.code_dir.relative_to(ROOT)}, layer {bundle.layer_dir.relative_to(ROOT)}")
    bench = bench_environment()
    children = Children(bench.python)
    runtimes = runtime_bundles(bundle.code_dir, bundle.layer_dir)  # python3.11's is the bundle above
    growth_db = growth_database()  # first: by the growth runs, its versions are minutes old

    # No SNS or EventBridge here, and the baseline sends neither: alerts (no topic) and events are off.
    in_task_root = {"LAMBDA_TASK_ROOT": str(bundle.code_dir), **NO_EVENTS}
    ours = Variant(
        "ours", OURS_MODULE, (bundle.code_dir, bundle.layer_dir, bench.boto3_dir), {**in_task_root, **SPEC_FLOW}
    )
    ours_defaults = Variant("ours-defaults", OURS_MODULE, ours.paths, in_task_root)
    baseline = Variant(
        "baseline",
        BASELINE_MODULE,
        (bench.baseline_dir, bench.site_packages),
        {"LAMBDA_TASK_ROOT": str(bench.baseline_dir)},
    )
    sampled = {**TRACED, "_X_AMZN_TRACE_ID": SAMPLED_TRACE_ID}
    ours_traced = Variant("ours-traced", OURS_MODULE, ours.paths, {**ours.env, **sampled})
    baseline_traced = Variant("baseline-traced", BASELINE_MODULE, baseline.paths, {**baseline.env, **sampled})
    traced = {**in_task_root, **TRACED}  # the function's import with tracing on
    # Outside Lambda (tests, the CLI, a laptop): tracing disabled, no LAMBDA_TASK_ROOT.
    local = {"LAMBDA_TASK_ROOT": None, "AWS_LAMBDA_FUNCTION_NAME": None, "AWS_EXECUTION_ENV": None}
    powertools_paths = (bundle.layer_dir, bench.boto3_dir)

    def timer(
        name: str, paths: Sequence[Path], code: str, env: Mapping[str, str | None] = in_task_root
    ) -> Callable[[], float]:
        return lambda: children.time_code(name, paths, code, env)

    log(f"init: {plan.init} fresh interpreters per import (floor, ours, baseline, Tracer variants)")
    init = interleaved(
        plan.init,
        {
            "floor": timer("floor", (bench.boto3_dir,), "import boto3"),
            "ours": timer("ours-init", ours.paths, f"import {OURS_MODULE}"),
            "baseline": timer("baseline-init", baseline.paths, f"import {BASELINE_MODULE}", baseline.env),
            "ours-traced": timer("ours-init-traced", ours.paths, f"import {OURS_MODULE}", traced),
            "ours-local": timer("ours-init-local", ours.paths, f"import {OURS_MODULE}", local),
            "receiver": timer("receiver-init", ours.paths, f"import {RECEIVER_MODULE}"),
            "ours-traced-httplib": timer(
                "ours-init-traced-httplib", ours.paths, f"{HTTPLIB_ONLY_TRACER}import {OURS_MODULE}", traced
            ),
            "powertools": timer("powertools", powertools_paths, POWERTOOLS_LOGGER_METRICS),
            "tracer-off": timer("tracer-off", powertools_paths, POWERTOOLS_WITH_TRACER),
            "tracer-on": timer("tracer-on", powertools_paths, POWERTOOLS_WITH_TRACER, traced),
            "tracer-on-httplib": timer("tracer-on-httplib", powertools_paths, POWERTOOLS_WITH_HTTPLIB_TRACER, traced),
            "powertools-local": timer("powertools-local", powertools_paths, POWERTOOLS_LOGGER_METRICS, local),
            "tracer-local": timer("tracer-local", powertools_paths, POWERTOOLS_WITH_TRACER, local),
        },
    )

    from devtools.local.servers import mlflow_server

    shutil.rmtree(WORK / "mlflow", ignore_errors=True)
    log("starting the MLflow server")
    with mlflow_server(WORK / "mlflow") as server:
        registry = Registry(server.url)
        log("MLflow requests and round trips per promotion, counted by a proxy")
        counted = promotion_rounds(children, registry, server.url, (ours, ours_defaults, baseline))
        log(f"cold invocations: {plan.cold} per handler, {plan.cold_traced} with detailed tracing, interleaved")
        cold = cold_timings(children, registry, server.url, plan, (ours, baseline), (ours_traced, baseline_traced))
        log(f"cold invocations per Lambda runtime: {plan.runtime_cold} each, interleaved")
        runtime_cold = runtime_cold_starts(
            runtimes, registry, server.url, bench.boto3_dir, {**in_task_root, **SPEC_FLOW}, plan.runtime_cold
        )
        log(f"warm invocations: {plan.warm} per handler, interleaved")
        warm = warm_timings(children, registry, server.url, (ours, baseline, ours_defaults), plan.warm)
        log(f"writes alone and together: {plan.writes} of each")
        writes = write_costs(server.url, registry.post, plan.writes)
    growth = measure_growth(children, growth_db, (ours, baseline), plan.growth)
    log(f"webhook receiver: {plan.cold} cold invocations")
    receiver_cold = receiver_cold_starts(children, ours.paths, in_task_root, plan.cold)

    log("bundle sizes")
    ours_size = bundle_size(
        [(bundle.code_dir, _tree(bundle.code_dir)), (bundle.layer_dir.parent, _tree(bundle.layer_dir))]
    )
    baseline_files, baseline_dists = baseline_bundle_files(bench.site_packages)
    baseline_handler = bench.baseline_dir / f"{BASELINE_MODULE}.py"
    baseline_size = bundle_size([(bench.site_packages, baseline_files), (bench.baseline_dir, [baseline_handler])])

    minutes, seconds = divmod(round(time.monotonic() - started), 60)
    report = Report(
        plan=plan,
        machine={**machine(bench.python), "duration": f"{minutes} min {seconds:02d} s"},
        init=init,
        cold=cold,
        warm=warm,
        rounds=counted.rounds,
        timelines=counted.timelines,
        growth=growth,
        writes=writes,
        ours_size=ours_size,
        baseline_size=baseline_size,
        baseline_dists=baseline_dists,
        boto3_version=_pinned("boto3"),
        lambda_provided=sorted(LAMBDA_PROVIDED),
        warmup=WARMUP,
        receiver_cold=receiver_cold,
        runtime_cold=runtime_cold,
    )
    print(report.console())
    log(f"done in {minutes} min {seconds:02d} s")
    if args.quick:
        return
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(performance_markdown(report))
    log(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
