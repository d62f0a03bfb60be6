"""`make bench`: our bundled handler against the obvious mlflow-skinny handler, in one run.

Synthesizes the dev stack into .bench/cdk.out (the bundle the stack ships), builds the benchmark's
own environment (.bench/venv: mlflow-skinny and Powertools for the baseline; .bench/boto3: boto3 as
the Lambda runtime provides it), starts a real MLflow server, and measures init, cold and warm
invocations, peak RSS, MLflow requests per promotion (counted by a proxy in front of the server),
bundle sizes and what the Powertools Tracer costs at import. Every timing runs in a fresh child
process of the same interpreter (devtools/bench_worker.py). Prints the table and writes it, with
the machine it ran on, to docs/performance.md.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import platform
import py_compile
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
import venv
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".bench"
DOC = ROOT / "docs" / "performance.md"
WORKER = ROOT / "devtools" / "bench_worker.py"
BASELINE_SOURCE = ROOT / "devtools" / "bench_baseline_handler.py"
STACK = "PromoteModel-dev"

WARMUP = 5  # untimed warm invocations before the timed ones
VERSIONS_PER_MODEL = 10  # Staging versions registered per model for the timed promotions

OURS_MODULE = "promote_model.handler"
BASELINE_MODULE = "bench_baseline_handler"
# The spec's flow: no alias, no audit tags (what the baseline does too); alerts are off throughout.
SPEC_FLOW = {"PROMOTION_ALIAS": "", "AUDIT_TAGS_ENABLED": "false"}
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


@dataclass(frozen=True)
class Plan:
    init: int = 15  # fresh interpreters per import timing
    cold: int = 50  # cold invocations per handler
    warm: int = 50  # timed warm invocations per handler


QUICK = Plan(init=3, cold=3, warm=5)  # --quick: check that everything runs; writes no document


def log(message: str) -> None:
    print(f"[bench {time.monotonic() - _STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


_STARTED = time.monotonic()


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
    from devtools.local_workflow import SynthesizedStack

    shutil.rmtree(outdir, ignore_errors=True)
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "PYTHONPATH": str(ROOT)}
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


# --- child processes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    name: str
    module: str
    paths: tuple[Path, ...]
    env: Mapping[str, str | None] = field(default_factory=dict)


def _child_env(extra: Mapping[str, str | None], tracking_uri: str | None = None) -> dict[str, str]:
    """What the Lambda runtime sets (LAMBDA_TASK_ROOT and friends), the function's Powertools
    settings with tracing disabled, and ``extra`` (``None`` removes a variable)."""
    env: dict[str, str | None] = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(WORK / "home"),
        "LANG": "C.UTF-8",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "AWS_LAMBDA_FUNCTION_NAME": "promote-model",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "LAMBDA_TASK_ROOT": str(WORK),
        "POWERTOOLS_SERVICE_NAME": "promote-model",
        "POWERTOOLS_METRICS_NAMESPACE": "PromoteModel",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
    }
    if tracking_uri is not None:
        env["MLFLOW_TRACKING_URI"] = tracking_uri
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


class Children:
    """Starts the worker in the benchmark environment's interpreter, isolated (-I)."""

    def __init__(self, python: Path) -> None:
        self.python = python
        (WORK / "home").mkdir(parents=True, exist_ok=True)
        (WORK / "logs").mkdir(parents=True, exist_ok=True)

    def _command(self, mode: str, paths: Sequence[Path], **options: str) -> list[str]:
        command = [str(self.python), "-I", str(WORKER), mode]
        for path in paths:
            command += ["--path", str(path)]
        for key, value in options.items():
            command += [f"--{key}", value]
        return command

    def _once(self, name: str, command: list[str], env: Mapping[str, str]) -> dict[str, Any]:
        with (WORK / "logs" / f"{name}.log").open("a") as errors:
            completed = subprocess.run(command, stdout=subprocess.PIPE, stderr=errors, env=env, text=True, timeout=180)
        if completed.returncode != 0 or not completed.stdout.strip():
            raise SystemExit(f"{name}: the worker failed (exit {completed.returncode}); see .bench/logs/{name}.log")
        answer: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
        return answer

    def time_code(self, name: str, paths: Sequence[Path], code: str, env: Mapping[str, str | None]) -> float:
        return float(self._once(name, self._command("time", paths, code=code), _child_env(env))["ms"])

    def cold(self, variant: Variant, event: Mapping[str, Any], tracking_uri: str) -> dict[str, Any]:
        command = self._command("cold", variant.paths, module=variant.module, event=json.dumps(event), root=str(ROOT))
        answer = self._once(f"{variant.name}-cold", command, _child_env(variant.env, tracking_uri))
        _check_promoted(variant, answer["result"], event)
        return answer

    @contextmanager
    def serving(self, variant: Variant, tracking_uri: str) -> Iterator[Server]:
        command = self._command("serve", variant.paths, module=variant.module, root=str(ROOT))
        with (WORK / "logs" / f"{variant.name}-serve.log").open("a") as errors:
            process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                env=_child_env(variant.env, tracking_uri),
                text=True,
            )
            try:
                yield Server(variant, process)
            finally:
                if process.stdin is not None:
                    process.stdin.close()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@dataclass
class Server:
    variant: Variant
    process: subprocess.Popen[str]

    def invoke(self, event: Mapping[str, Any]) -> tuple[float, dict[str, Any]]:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None
        assert stdout is not None
        stdin.write(json.dumps(event) + "\n")
        stdin.flush()
        line = stdout.readline()
        if not line:
            raise SystemExit(f"{self.variant.name}: the worker died; see .bench/logs/{self.variant.name}-serve.log")
        answer = json.loads(line)
        if "error" in answer:
            raise SystemExit(f"{self.variant.name}: {event} failed: {answer['error']}")
        return float(answer["ms"]), answer["result"]


def _check_promoted(variant: Variant, result: Mapping[str, Any], event: Mapping[str, Any]) -> None:
    if not result.get("promoted"):
        raise SystemExit(f"{variant.name} did not promote {event}: {result}")


# --- the registry --------------------------------------------------------------------------------


class Registry:
    """Arranges models on the MLflow server over its REST API (one request per create or transition)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._models = 0

    def _post(self, route: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310 (the local MLflow server)
            f"{self.url}/api/2.0/mlflow/{route}",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (the local server)
            answer: dict[str, Any] = json.loads(response.read())
        return answer

    def model(self, prefix: str, staging: int) -> str:
        """A model whose version 1 is in Production and versions 2..staging+1 are in Staging."""
        self._models += 1
        name = f"{prefix}-{self._models:04d}"
        self._post("registered-models/create", {"name": name})
        for stage in ["Production"] + ["Staging"] * staging:
            created = self._post(
                "model-versions/create", {"name": name, "source": "s3://promote-model-bench/artifacts"}
            )
            version = created["model_version"]["version"]
            self._post("model-versions/transition-stage", {"name": name, "version": version, "stage": stage,
                                                          "archive_existing_versions": False})  # fmt: skip
        return name

    def promotions(self, prefix: str, count: int) -> list[dict[str, Any]]:
        """``count`` explicit promotion events, each of a fresh Staging version, in promotable order."""
        events: list[dict[str, Any]] = []
        while len(events) < count:
            staging = min(VERSIONS_PER_MODEL, count - len(events))
            name = self.model(prefix, staging)
            events += [{"model_name": name, "new_version": str(v), "confidence": 0.85} for v in range(2, staging + 2)]
        return events


# --- measurements --------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def p95(values: Sequence[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def interleaved(runs: int, measures: Mapping[str, Callable[[], float]]) -> dict[str, list[float]]:
    """Each measure ``runs`` times, round-robin (drift hits all alike), after one discarded round."""
    samples: dict[str, list[float]] = {name: [] for name in measures}
    for round_number in range(runs + 1):
        for name, measure in measures.items():
            value = measure()
            if round_number:
                samples[name].append(value)
    return samples


def request_counts(
    children: Children, registry: Registry, proxy_url: str, variant: Variant, take: Callable[[], list[tuple[str, str]]]
) -> dict[str, list[tuple[str, str]]]:
    """The requests MLflow receives per promotion, after one uncounted warm-up promotion."""
    routes: dict[str, list[tuple[str, str]]] = {}
    prefix = f"counts-{variant.name}"
    with children.serving(variant, proxy_url) as server:
        warmup = registry.promotions(f"{prefix}-warmup", 1)[0]
        take()
        server.invoke(warmup)
        take()
        explicit_model, fallback_model = registry.model(prefix, 1), registry.model(prefix, 1)
        for scenario, event in [
            ("explicit", {"model_name": explicit_model, "new_version": "2", "confidence": 0.85}),
            ("fallback", {"model_name": fallback_model, "confidence": 0.85}),
            ("idempotent", {"model_name": explicit_model, "new_version": "2", "confidence": 0.85}),
        ]:
            take()
            _, result = server.invoke(event)
            routes[scenario] = take()
            _check_promoted(variant, result, event)
            if (scenario == "idempotent") != bool(result.get("already_promoted")):
                raise SystemExit(f"{variant.name}: unexpected answer to the {scenario} promotion: {result}")
    return routes


def warm_timings(children: Children, registry: Registry, url: str, variant: Variant, runs: int) -> list[float]:
    events = registry.promotions(f"warm-{variant.name}", 1 + WARMUP + runs)
    timings: list[float] = []
    with children.serving(variant, url) as server:
        for index, event in enumerate(events):
            elapsed, result = server.invoke(event)
            _check_promoted(variant, result, event)
            if index > WARMUP:  # the first is the cold one, then WARMUP untimed warm ones
                timings.append(elapsed)
    return timings


@dataclass(frozen=True)
class BundleSize:
    files: int
    unzipped: int
    zipped: int


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


# --- report ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    metric: str
    ours: str
    baseline: str
    ratio: str
    target: str
    met: bool | None  # None: for information, no target


def _ms(value: float) -> str:
    return f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"


def _mb(value: float) -> str:
    return f"{value / 1e6:.2f} MB"


def _speedup(ours: float, baseline: float) -> str:
    return f"{baseline / ours:.1f}x faster"


def _route_names(routes: list[tuple[str, str]]) -> str:
    """``GET a, POST b x7``: the routes in order, repeats folded."""
    folded: list[tuple[str, int]] = []
    for method, path in routes:
        name = f"{method} {path.removeprefix('/api/2.0/mlflow/')}"
        if folded and folded[-1][0] == name:
            folded[-1] = (name, folded[-1][1] + 1)
        else:
            folded.append((name, 1))
    return ", ".join(name if times == 1 else f"{name} x{times}" for name, times in folded)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _met(value: bool | None) -> str:
    return "—" if value is None else ("**met**" if value else "**NOT met**")


def machine(python: Path) -> dict[str, str]:
    cpu = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    version = subprocess.run(
        [str(python), "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return {
        "arch": platform.machine(),
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu,
        "python": version,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a few runs of each, to check the bench; no document")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else Plan()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    WORK.mkdir(exist_ok=True)
    shutil.rmtree(WORK / "logs", ignore_errors=True)
    log("synthesizing the dev stack into .bench/cdk.out")
    bundle = synthesize(WORK / "cdk.out")
    log(f"bundle: code {bundle.code_dir.relative_to(ROOT)}, layer {bundle.layer_dir.relative_to(ROOT)}")
    bench = bench_environment()
    children = Children(bench.python)

    in_task_root = {"LAMBDA_TASK_ROOT": str(bundle.code_dir)}
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
    # Tracing on, as the deployed function has it: Active tracing, POWERTOOLS_TRACE_DISABLED unset.
    traced = {**in_task_root, "POWERTOOLS_TRACE_DISABLED": None, "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
              "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR"}  # fmt: skip
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

    from devtools.fault_proxy import fault_proxy
    from devtools.servers import mlflow_server

    shutil.rmtree(WORK / "mlflow", ignore_errors=True)
    log("starting the MLflow server")
    with mlflow_server(WORK / "mlflow") as server, fault_proxy(server.url) as proxy:
        registry = Registry(server.url)
        log("MLflow requests per promotion, counted by the proxy")
        counts = {
            variant.name: request_counts(children, registry, proxy.url, variant, proxy.take)
            for variant in (ours, ours_defaults, baseline)
        }
        log(f"cold invocations: {plan.cold} per handler, interleaved")
        cold_events = {v.name: registry.promotions(f"cold-{v.name}", plan.cold + 1) for v in (ours, baseline)}
        cold: dict[str, list[dict[str, Any]]] = {"ours": [], "baseline": []}
        for index in range(plan.cold + 1):
            for variant in (ours, baseline):
                answer = children.cold(variant, cold_events[variant.name][index], server.url)
                if index:  # the first of each only warms the page cache and writes any missing .pyc
                    cold[variant.name].append(answer)
        log(f"warm invocations: {plan.warm} per handler")
        warm = {
            v.name: warm_timings(children, registry, server.url, v, plan.warm) for v in (ours, baseline, ours_defaults)
        }

    log("bundle sizes")
    ours_size = bundle_size(
        [(bundle.code_dir, _tree(bundle.code_dir)), (bundle.layer_dir.parent, _tree(bundle.layer_dir))]
    )
    baseline_files, baseline_dists = baseline_bundle_files(bench.site_packages)
    baseline_handler = bench.baseline_dir / f"{BASELINE_MODULE}.py"
    baseline_size = bundle_size([(bench.site_packages, baseline_files), (bench.baseline_dir, [baseline_handler])])

    report = Report(
        plan=plan,
        machine=machine(bench.python),
        init=init,
        cold=cold,
        warm=warm,
        counts=counts,
        ours_size=ours_size,
        baseline_size=baseline_size,
        baseline_dists=baseline_dists,
    )
    print(report.console())
    if args.quick:
        return
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(report.markdown())
    log(f"wrote {DOC.relative_to(ROOT)}")


@dataclass(frozen=True)
class Report:
    plan: Plan
    machine: dict[str, str]
    init: dict[str, list[float]]
    cold: dict[str, list[dict[str, Any]]]
    warm: dict[str, list[float]]
    counts: dict[str, dict[str, list[tuple[str, str]]]]
    ours_size: BundleSize
    baseline_size: BundleSize
    baseline_dists: list[str]

    def rows(self) -> list[Row]:
        init = {name: median(values) for name, values in self.init.items()}
        floor, ours, base = init["floor"], init["ours"], init["baseline"]
        cold_ms = {name: [a["total_ms"] for a in answers] for name, answers in self.cold.items()}
        rss = {name: median([a["peak_rss_kb"] * 1024 for a in answers]) for name, answers in self.cold.items()}
        warm = self.warm
        count = {name: {s: len(r) for s, r in routes.items()} for name, routes in self.counts.items()}
        size_o, size_b = self.ours_size, self.baseline_size
        cold_p50 = {name: median(values) for name, values in cold_ms.items()}
        cold_invoke = {name: [a["invoke_ms"] for a in answers] for name, answers in self.cold.items()}
        rows = [
            Row("Init: import the handler (median)", _ms(ours), _ms(base), _speedup(ours, base), ">= 4x faster", base / ours >= 4),
            Row(f"Init vs floor (import boto3 alone: {_ms(floor)})", f"{ours / floor:.2f}x floor", f"{base / floor:.2f}x floor",
                "", "ours <= 1.5x floor", ours / floor <= 1.5),
            Row("Cold invocation p50 (init + 1 promotion)", _ms(cold_p50["ours"]), _ms(cold_p50["baseline"]),
                _speedup(cold_p50["ours"], cold_p50["baseline"]), ">= 3x faster", cold_p50["baseline"] / cold_p50["ours"] >= 3),
            Row("Cold: the promotion alone, after the import (p50)", _ms(median(cold_invoke["ours"])),
                _ms(median(cold_invoke["baseline"])), _speedup(median(cold_invoke["ours"]), median(cold_invoke["baseline"])),
                "", None),
            Row("Cold invocation p95", _ms(p95(cold_ms["ours"])), _ms(p95(cold_ms["baseline"])),
                _speedup(p95(cold_ms["ours"]), p95(cold_ms["baseline"])), "", None),
            Row("Warm invocation p50", _ms(median(warm["ours"])), _ms(median(warm["baseline"])),
                _speedup(median(warm["ours"]), median(warm["baseline"])), "", None),
            Row("Warm invocation p95", _ms(p95(warm["ours"])), _ms(p95(warm["baseline"])),
                _speedup(p95(warm["ours"]), p95(warm["baseline"])), "", None),
            Row("Warm p50 / p95, ours with alias + audit tags (defaults)",
                f"{_ms(median(warm['ours-defaults']))} / {_ms(p95(warm['ours-defaults']))}", "", "", "", None),
            Row("Peak RSS of a cold invocation (median)", _mb(rss["ours"]), _mb(rss["baseline"]),
                f"{rss['ours'] / rss['baseline']:.0%} of baseline", "<= 50%", rss["ours"] / rss["baseline"] <= 0.5),
            Row("Bundle, unzipped (code + layer)", _mb(size_o.unzipped), _mb(size_b.unzipped),
                f"{size_o.unzipped / size_b.unzipped:.1%} of baseline", "<= 15%", size_o.unzipped / size_b.unzipped <= 0.15),
            Row("Bundle, zipped (DEFLATED)", _mb(size_o.zipped), _mb(size_b.zipped),
                f"{size_o.zipped / size_b.zipped:.1%} of baseline", "<= 15%", size_o.zipped / size_b.zipped <= 0.15),
            Row("MLflow requests: explicit version", str(count["ours"]["explicit"]), str(count["baseline"]["explicit"]),
                "", "<= 3 + 1 verification read", count["ours"]["explicit"] <= 4),
            Row("MLflow requests: Staging fallback", str(count["ours"]["fallback"]), str(count["baseline"]["fallback"]),
                "", "<= 2 + 1 verification read", count["ours"]["fallback"] <= 3),
            Row("MLflow requests: idempotent (already Production)", str(count["ours"]["idempotent"]),
                str(count["baseline"]["idempotent"]), "", "1", count["ours"]["idempotent"] == 1),
            Row("MLflow requests, ours with alias + audit tags (defaults): explicit / fallback / idempotent",
                " / ".join(str(count["ours-defaults"][s]) for s in ("explicit", "fallback", "idempotent")),
                " / ".join(str(count["baseline"][s]) for s in ("explicit", "fallback", "idempotent")), "", "", None),
        ]  # fmt: skip
        return rows

    def tracer_rows(self) -> list[list[str]]:
        init = {name: median(values) for name, values in self.init.items()}
        base, local_base, floor = init["powertools"], init["powertools-local"], init["floor"]

        def delta(name: str, over: float) -> str:
            return f"+{_ms(init[name] - over)}"

        def vs_floor(name: str) -> str:
            return f"{init[name] / floor:.2f}x floor"

        return [
            ["Powertools Logger() + Metrics() (layer + boto3), in Lambda", _ms(base), ""],
            ["... + Tracer(), in Lambda, POWERTOOLS_TRACE_DISABLED=true", _ms(init["tracer-off"]), delta("tracer-off", base)],
            ["... + Tracer(), in Lambda, tracing on (patches every library it knows)", _ms(init["tracer-on"]),
             delta("tracer-on", base)],
            ["... + Tracer(patch_modules=['httplib']), in Lambda, tracing on", _ms(init["tracer-on-httplib"]),
             delta("tracer-on-httplib", base)],
            ["... + Tracer(), outside Lambda (tests, CLI, local workflow), tracing disabled", _ms(init["tracer-local"]),
             f"+{_ms(init['tracer-local'] - local_base)} over {_ms(local_base)}"],
            ["Our handler import, in Lambda, tracing disabled (the Init row)", _ms(init["ours"]), vs_floor("ours")],
            ["Our handler import, outside Lambda, tracing disabled", _ms(init["ours-local"]), vs_floor("ours-local")],
            ["Our handler import, in Lambda, tracing on (the stack with detailed_tracing: true; its default leaves it off)", _ms(init["ours-traced"]),
             vs_floor("ours-traced")],
            ["... the same, with the Tracer patching httplib only", _ms(init["ours-traced-httplib"]),
             vs_floor("ours-traced-httplib")],
        ]  # fmt: skip

    def console(self) -> str:
        rows = [[r.metric, r.ours, r.baseline, r.ratio, r.target, _met(r.met).strip("*")] for r in self.rows()]
        widths = [max(len(row[i]) for row in [list(HEADERS), *rows]) for i in range(len(HEADERS))]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            for row in [list(HEADERS), *rows]
        ]
        tracer = [f"  {label}: {value} {note}".rstrip() for label, value, note in self.tracer_rows()]
        return "\n".join(["", *lines, "", "Powertools Tracer at import (medians):", *tracer, ""])

    def markdown(self) -> str:
        m = self.machine
        rows = [[r.metric, r.ours, r.baseline, r.ratio, r.target, _met(r.met)] for r in self.rows()]
        routes = [
            [variant, scenario, str(len(seen)), _route_names(seen)]
            for variant, per_scenario in self.counts.items()
            for scenario, seen in per_scenario.items()
        ]
        return f"""# Performance

Written by `make bench` ({Path(__file__).relative_to(ROOT)}); do not edit by hand, run it again.
Last run: {m["date"]} on {m["arch"]}, {m["nproc"]} CPUs ({m["cpu"]}), Python {m["python"]}.

**Ours** is the handler exactly as the stack ships it: the code and layer assets of a fresh
`cdk synth` of the dev stack (.bench/cdk.out), with boto3 {_pinned("boto3")} beside it as the Lambda
runtime provides it. **Baseline** is the same promotion written the obvious way
(devtools/bench_baseline_handler.py): mlflow-skinny 3.17.2's `MlflowClient` (`get_model_version` or
`get_latest_versions(stages=["Staging"])`, then `transition_model_version_stage(...,
archive_existing_versions=True)`), with the same Powertools Logger, Metrics and Tracer decorators,
installed only in the benchmark's own environment (.bench/venv), never in the bundle.

Both run with the variables the Lambda runtime sets (`LAMBDA_TASK_ROOT`, `AWS_LAMBDA_FUNCTION_NAME`,
...; the X-Ray SDK and Powertools behave differently outside Lambda), `POWERTOOLS_TRACE_DISABLED=true`,
alerts off and, for ours, `PROMOTION_ALIAS=""` and `AUDIT_TAGS_ENABLED=false` (the spec's flow, which
is what the baseline does) unless a row says "defaults". All timings come from this one run, on
the same interpreter (the benchmark environment's, `python -I`, each variant seeing only its own
bundle on `sys.path`), against a local MLflow server (SQLite, one worker) on loopback; they are
noisy, so compare the ratios, not the absolute numbers, and only within one run.

- **Init**: a fresh interpreter imports the handler module, median of {self.plan.init} (after one discarded
  round). The **floor** is the same interpreter importing boto3 alone.
- **Cold invocation**: a fresh interpreter imports the handler and runs one promotion of a fresh
  Staging version (explicit `new_version`), timed from before the import to the answer; {self.plan.cold} per
  handler, interleaved. **Peak RSS** is that process's high-water mark (`VmHWM` in /proc/self/status;
  `ru_maxrss` is not usable here: Linux carries it over from the parent across fork and exec).
- **Warm invocation**: one long-lived process per handler, {self.plan.warm} promotions of fresh versions after
  one cold and {WARMUP} untimed warm ones.
- **MLflow requests** are counted at the server, by a counting reverse proxy in front of it
  (devtools/fault_proxy.py), per promotion, after one uncounted warm-up promotion.
- **Bundle**: every file of the code asset and the layer asset, and their zips (DEFLATED). The
  baseline's equivalent is its handler file plus the installed files of mlflow-skinny, Powertools,
  aws-xray-sdk and all their dependencies except what the Lambda runtime provides
  ({", ".join(sorted(LAMBDA_PROVIDED))}).

## Results

{markdown_table(HEADERS, rows)}

Bundle files: ours {self.ours_size.files}, baseline {self.baseline_size.files}
({", ".join(self.baseline_dists)}).

### MLflow requests per promotion, by route

{markdown_table(["Handler", "Promotion", "Requests", "Routes, in order"], routes)}

### What the Powertools Tracer costs at import

Fresh interpreters, medians of {self.plan.init}, same run. Creating a `Tracer()` imports the X-Ray SDK
even when tracing is disabled; outside Lambda (no `LAMBDA_TASK_ROOT`) the SDK's recorder also sets up
centralized sampling with a botocore session, which is most of its cost there. With tracing on it
patches every library it supports that is importable (botocore among them). Our handler creates the
Tracer only when tracing is enabled (promote_model.observability.traced); "tracing on" below is
`AWS_XRAY_DAEMON_ADDRESS` set and `POWERTOOLS_TRACE_DISABLED` unset, as in the deployed function.

{markdown_table(["Import", "Median", "Delta"], self.tracer_rows())}
"""


HEADERS = ("Metric", "Ours", "Baseline", "Ratio", "Target", "Target met")


if __name__ == "__main__":
    main()
