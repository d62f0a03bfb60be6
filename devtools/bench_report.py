"""The report of `make bench`: the Target/met table, the tables beside it, and docs/performance.md.

Everything it states is computed here from one run's measurements (``Results``); the document's
prose says how each was taken.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devtools.bench_counts import SCENARIOS, WIRE_LATENCY_SECONDS, Rounds, Timeline, requests, route_names
from devtools.bench_growth import ROUTE_SAMPLES, SIZES, Growth, GrowthPlan
from devtools.bench_routes import AT_ONCE, ONE_AFTER_ANOTHER


@dataclass(frozen=True)
class Plan:
    init: int = 15  # fresh interpreters per import timing
    cold: int = 50  # cold invocations per handler
    cold_traced: int = 20  # of those, how many also run with detailed tracing on
    warm: int = 50  # timed warm invocations per handler
    writes: int = 9  # samples of each write timed alone or together
    growth: GrowthPlan = field(default_factory=lambda: GrowthPlan(warm=20, cold=3))  # per variant and size


@dataclass(frozen=True)
class BundleSize:
    files: int
    unzipped: int
    zipped: int


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def p95(values: Sequence[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


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


def _times(ours: float, baseline: float) -> str:
    return f"{ours / baseline:.2f}x baseline"


def _timeline_text(timeline: Timeline) -> str:
    """``(4) 62 → (45) 71 → (2) = 184``: each round trip's span, the time between them in brackets."""
    parts = [f"({gap:.0f}) {span:.0f}" for gap, span in timeline.rounds]
    return " → ".join([*parts, f"({timeline.after_ms:.0f})"]) + f" = {timeline.total_ms:.0f}"


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


@dataclass(frozen=True)
class Report:
    plan: Plan
    machine: dict[str, str]
    init: dict[str, list[float]]
    cold: dict[str, list[dict[str, Any]]]
    warm: dict[str, list[float]]
    rounds: dict[str, dict[str, Rounds]]  # variant -> promotion kind -> round trips
    timelines: dict[str, dict[str, Timeline]]  # the same promotions' time per round trip, at the proxy
    growth: Growth
    writes: dict[str, float]  # median ms per MLflow write (and read) alone, and the defaults' writes together
    ours_size: BundleSize
    baseline_size: BundleSize
    baseline_dists: list[str]
    boto3_version: str
    lambda_provided: list[str]
    warmup: int  # untimed warm invocations before the timed ones
    receiver_cold: list[dict[str, Any]]  # the webhook receiver's cold invocations (devtools/bench_receiver.py)

    def rows(self) -> list[Row]:
        init = {name: median(values) for name, values in self.init.items()}
        floor, ours, base = init["floor"], init["ours"], init["baseline"]
        cold_ms = {name: [a["total_ms"] for a in answers] for name, answers in self.cold.items()}
        rss = {name: median([a["peak_rss_kb"] * 1024 for a in answers]) for name, answers in self.cold.items()}
        warm = self.warm
        count = {name: {k: requests(r) for k, r in per_kind.items()} for name, per_kind in self.rounds.items()}
        trips = {name: {k: len(r) for k, r in per_kind.items()} for name, per_kind in self.rounds.items()}
        warm_p50 = {name: median(values) for name, values in warm.items()}
        grown = {size: {n: median(s.warm_ms) for n, s in per.items()} for size, per in self.growth.samples.items()}
        small, large = SIZES[0], SIZES[-1]
        growth_o, growth_b = (
            grown[large]["ours"] / grown[small]["ours"],
            grown[large]["baseline"] / grown[small]["baseline"],
        )
        rss_large = {n: median([kb * 1024 for kb in s.peak_rss_kb]) for n, s in self.growth.samples[large].items()}
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
            Row("Cold invocation p50, detailed_tracing on (X-Ray active, sampled)", _ms(cold_p50["ours-traced"]),
                _ms(cold_p50["baseline-traced"]), _speedup(cold_p50["ours-traced"], cold_p50["baseline-traced"]), "", None),
            Row("Warm invocation p50, spec flow (alias and tags off)", _ms(warm_p50["ours"]), _ms(warm_p50["baseline"]),
                _times(warm_p50["ours"], warm_p50["baseline"]), "<= 1.0x baseline", warm_p50["ours"] <= warm_p50["baseline"]),
            Row("Warm invocation p95, spec flow", _ms(p95(warm["ours"])), _ms(p95(warm["baseline"])),
                _times(p95(warm["ours"]), p95(warm["baseline"])), "", None),
            Row("Warm invocation p50, defaults (alias + all audit tags) vs the baseline's spec flow",
                _ms(warm_p50["ours-defaults"]), _ms(warm_p50["baseline"]), _times(warm_p50["ours-defaults"], warm_p50["baseline"]),
                "<= 1.4x baseline", warm_p50["ours-defaults"] <= 1.4 * warm_p50["baseline"]),
            Row("Warm invocation p95, defaults vs the baseline's spec flow", _ms(p95(warm["ours-defaults"])),
                _ms(p95(warm["baseline"])), _times(p95(warm["ours-defaults"]), p95(warm["baseline"])), "", None),
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
            Row("MLflow requests, ours with defaults: explicit / fallback / idempotent",
                " / ".join(str(count["ours-defaults"][k]) for k in SCENARIOS),
                " / ".join(str(count["baseline"][k]) for k in SCENARIOS), "", "", None),
            Row("Round trips on the critical path, defaults, explicit version", str(trips["ours-defaults"]["explicit"]),
                f"{trips['baseline']['explicit']} (spec flow)", "", "<= 4", trips["ours-defaults"]["explicit"] <= 4),
            Row("Round trips, spec flow: explicit / fallback / idempotent", " / ".join(str(trips["ours"][k]) for k in SCENARIOS),
                " / ".join(str(trips["baseline"][k]) for k in SCENARIOS), "", "", None),
            Row("Round trips, defaults: fallback / idempotent", " / ".join(str(trips["ours-defaults"][k]) for k in SCENARIOS[1:]),
                "", "", "", None),
            Row(f"Promotion p50 (warm), {large:,} versions vs {small}", f"{growth_o:.2f}x", f"{growth_b:.2f}x", "",
                "ours <= 2x", growth_o <= 2),
            Row(f"Peak RSS of a cold invocation, {large:,} versions (median)", _mb(rss_large["ours"]),
                _mb(rss_large["baseline"]), f"{rss_large['ours'] / rss_large['baseline']:.0%} of baseline", "<= 64 MB",
                rss_large["ours"] <= 64e6),
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

    def receiver_rows(self) -> list[list[str]]:
        init = median(self.init["receiver"])
        total = [a["total_ms"] for a in self.receiver_cold]
        return [
            ["Init: import promote_model.webhook (median)", _ms(init)],
            ["Cold invocation p50 (init + 1 signed delivery: secret read, StartExecution)", _ms(median(total))],
            [
                "Cold: the delivery alone, after the import (p50)",
                _ms(median([a["invoke_ms"] for a in self.receiver_cold])),
            ],
            ["Cold invocation p95", _ms(p95(total))],
            [
                "Peak RSS of a cold invocation (median)",
                _mb(median([a["peak_rss_kb"] * 1024 for a in self.receiver_cold])),
            ],
        ]

    def console(self) -> str:
        rows = [[r.metric, r.ours, r.baseline, r.ratio, r.target, _met(r.met).strip("*")] for r in self.rows()]
        widths = [max(len(row[i]) for row in [list(HEADERS), *rows]) for i in range(len(HEADERS))]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            for row in [list(HEADERS), *rows]
        ]
        tracer = [f"  {label}: {value} {note}".rstrip() for label, value, note in self.tracer_rows()]
        trips = [
            f"  {v} {k}: {n} requests, {r} round trips: {routes}; {line}"
            for v, k, n, r, routes, line in self.round_rows()
        ]
        growth = [f"  {' | '.join(row)}" for row in self.growth_rows()]
        routes = [f"  {' | '.join(row)}" for row in self.route_rows()]
        return "\n".join(["", *lines, "", "Powertools Tracer at import (medians):", *tracer, "",
                          "Requests and round trips:", *trips, "",
                          "Growth: versions | ours p50 | p95 | baseline p50 | p95 | ours RSS | baseline RSS:", *growth,
                          "Reads alone, per size:", *routes, "  " + self.growth_note(), "",
                          "Writes:", *(f"  {label}: {_ms(ms)}" for label, ms in self.writes.items()), "",
                          "Webhook receiver:", *(f"  {label}: {value}" for label, value in self.receiver_rows()), "",
                          self.unmet_section(), ""])  # fmt: skip

    def round_rows(self) -> list[list[str]]:
        return [
            [variant, kind, str(requests(rounds)), str(len(rounds)), route_names(rounds),
             _timeline_text(self.timelines[variant][kind])]
            for variant, per_kind in self.rounds.items()
            for kind, rounds in per_kind.items()
        ]  # fmt: skip

    def growth_rows(self) -> list[list[str]]:
        rows = []
        for size, per in self.growth.samples.items():
            ours, base = per["ours"], per["baseline"]
            rows.append([f"{size:,}", _ms(median(ours.warm_ms)), _ms(p95(ours.warm_ms)), _ms(median(base.warm_ms)),
                         _ms(p95(base.warm_ms)), _mb(median([kb * 1024 for kb in ours.peak_rss_kb])),
                         _mb(median([kb * 1024 for kb in base.peak_rss_kb]))])  # fmt: skip
        return rows

    def route_rows(self) -> list[list[str]]:
        labels = list(next(iter(self.growth.routes.values())))
        return [[label, *(_ms(self.growth.routes[size][label]) for size in SIZES)] for label in labels]

    def markdown(self) -> str:
        m, plan, growth = self.machine, self.plan, self.plan.growth
        rows = [[r.metric, r.ours, r.baseline, r.ratio, r.target, _met(r.met)] for r in self.rows()]
        sizes = ", ".join(f"{size:,}" for size in SIZES)
        return f"""# Performance

Written by `make bench` (devtools/bench.py and its devtools/bench_*.py modules); do not edit by hand,
run it again. Last run: {m["date"]} on {m["arch"]}, {m["nproc"]} CPUs ({m["cpu"]}), Python {m["python"]};
the whole run took {m["duration"]}.

**Ours** is the handler exactly as the stack ships it: the code and layer assets of a fresh
`cdk synth` of the dev stack (.bench/cdk.out), with boto3 {self.boto3_version} beside it as the Lambda
runtime provides it. **Baseline** is the same promotion written the obvious way
(devtools/bench_baseline_handler.py): mlflow-skinny 3.17.2's `MlflowClient` (`get_model_version` or
`get_latest_versions(stages=["Staging"])`, then `transition_model_version_stage(...,
archive_existing_versions=True)`), with the same Powertools Logger, Metrics and Tracer decorators,
installed only in the benchmark's own environment (.bench/venv), never in the bundle.

Both run with the variables the Lambda runtime sets (`LAMBDA_TASK_ROOT`, `AWS_LAMBDA_FUNCTION_NAME`,
...; the X-Ray SDK and Powertools behave differently outside Lambda), `POWERTOOLS_TRACE_DISABLED=true`,
alerts and the EventBridge event off (`EVENT_BUS_NAME=""`; the baseline sends neither) and, for ours, `PROMOTION_ALIAS=""` and `AUDIT_TAGS_ENABLED=false` (the spec's flow, which
is what the baseline does) unless a row says "defaults" (the champion alias and every audit tag: what
a user deploys) or "detailed_tracing". All timings come from this one run, on the same interpreter
(the benchmark environment's, `python -I`, each variant seeing only its own bundle on `sys.path`),
against a local MLflow server (SQLite, one worker) on loopback, with no added latency; they are
noisy, so compare the ratios, not the absolute numbers, and only within one run.

- **Init**: a fresh interpreter imports the handler module, median of {plan.init} (after one discarded
  round). The **floor** is the same interpreter importing boto3 alone.
- **Cold invocation**: a fresh interpreter imports the handler and runs one promotion of a fresh
  Staging version (explicit `new_version`), timed from before the import to the answer; {plan.cold} per
  handler, interleaved. **Peak RSS** is that process's high-water mark (`VmHWM` in /proc/self/status;
  `ru_maxrss` is not usable here: Linux carries it over from the parent across fork and exec).
- **Cold invocation, detailed_tracing on**: the same, {plan.cold_traced} per handler, interleaved with the
  others, with the variables the stack's `detailed_tracing: true` gives the function
  (`POWERTOOLS_TRACE_DISABLED=false`, so Powertools' Tracer records; the function's X-Ray tracing is
  Active either way) and those the Lambda runtime then sets: `AWS_XRAY_DAEMON_ADDRESS=127.0.0.1:2000`
  and a sampled `_X_AMZN_TRACE_ID` (`Root=...;Parent=...;Sampled=1`), so every subsegment is recorded
  and sent, as for a sampled request. No X-Ray daemon listens here: the SDK sends segments as UDP datagrams (`sendto` on an
  unconnected socket), which never block or fail without a receiver, so no run waits on it.
  `AWS_XRAY_CONTEXT_MISSING=IGNORE_ERROR` is set as well; in Lambda the SDK's context ignores it (a
  missing context is a no-op there), it only keeps a run outside Lambda from raising.
- **Warm invocation**: one long-lived process per handler, {plan.warm} promotions of fresh versions after
  one cold and {self.warmup} untimed warm ones. "Defaults" is ours with the alias and every audit tag
  (7 tags, 8 writes after the verification), compared with the baseline's spec flow, which writes none.
- **MLflow requests and round trips** are counted at the server, by a counting reverse proxy in front of
  it (devtools/fault_proxy.py), per promotion, after one uncounted warm-up promotion. For this pass
  only, the proxy waits {WIRE_LATENCY_SECONDS * 1000:.0f} ms before forwarding each request (as a network between the
  function and MLflow would), so that requests sent together overlap there beyond any scheduling
  jitter; `FaultProxy.rounds()` groups them into sequential round trips: a request that starts
  before every request of the current group has answered is in flight with them. Every round trip
  of a promotion is on its critical path: the function answers after the last one.
- **Bundle**: every file of the code asset and the layer asset, and their zips (DEFLATED). The
  baseline's equivalent is its handler file plus the installed files of mlflow-skinny, Powertools,
  aws-xray-sdk and all their dependencies except what the Lambda runtime provides
  ({", ".join(self.lambda_provided)}).
- **Growth**: see [below](#cost-as-a-models-history-grows).

## Results

{markdown_table(HEADERS, rows)}

Bundle files: ours {self.ours_size.files}, baseline {self.baseline_size.files}
({", ".join(self.baseline_dists)}).

{self.unmet_section()}

### MLflow requests and round trips per promotion

Round trips in order, separated by →; requests sent together are joined by +. The last column is
the same promotion's time line at the proxy, in ms: each round trip's span (its first request in to
its last answer out, including the {WIRE_LATENCY_SECONDS * 1000:.0f} ms the proxy adds before forwarding each request)
and, in brackets, the time between one answer leaving the proxy and the handler's next request
reaching it (before the first: since the invocation began; the last: until the handler returned),
then the whole invocation as the benchmark saw it. A bracket is the handler's own work plus the
answer's delivery to it: this proxy writes an answer's headers and body in two writes, and with
Nagle's algorithm on its socket the body can wait for the caller's delayed ACK, up to about 40 ms
(the timed runs do not go through the proxy). One promotion each, on a noisy machine: read it for
where the time goes, not for the exact numbers.

{
            markdown_table(
                [
                    "Handler",
                    "Promotion",
                    "Requests",
                    "Round trips",
                    "Routes, by round trip",
                    "Time line at the proxy (ms)",
                ],
                self.round_rows(),
            )
        }

### What one round trip costs at this server

Each request sent straight to the same server (no handler, no proxy), on a model of two versions;
medians of {plan.writes}, after one untimed round. The last two rows are the defaults' last round trip,
the alias and the 7 audit tags as the function writes them (5 on the new champion, 2 on the version
it archived): sent at once (one thread each, timed to the last answer), then one after another.

{markdown_table(["MLflow request", "Median"], [[label, _ms(ms)] for label, ms in self.writes.items()])}

### Cost as a model's history grows

Models with {sizes} versions, built once with the registry's own client (`MlflowClient` of the
development environment on the SQLite store, one `create_model_version` per version; built on tmpfs,
about a minute on 2 cores) and cached in .bench/growth/ under a key of what built them (MLflow's
version, the sizes and the build code). Model `growth-N` has versions 1..N-3 registered and never
promoted (stage None), N-2 in Production, N-1 and N in Staging. Each run copies the cached database
and serves it with its own `mlflow server`. The promotions alternate versions N-1 and N (explicit
`new_version`): each promotes a version that is not in Production and archives the other, so the
model keeps N versions. Per size: {growth.warm} timed warm promotions per handler (one long-lived process
each, interleaved, after one cold and {growth.warmup} untimed), and {growth.cold} cold processes per handler for peak
RSS (VmHWM, median); fewer than the main rows, to keep the whole run under 10 minutes on 2 cores.
The versions must have been built more than a minute before: our verification reads the versions
updated within a minute of its transition (promotion.py's `CONCURRENCY_WINDOW_MS`), and a model
registered moments ago would have all of them in that window, as no model with a history does (the
run waits if the cache is younger). Ours reads one page of at most 100 versions there, newest first,
whatever the history; both handlers read `registered-models/get` (its `latest_versions`), which
MLflow's SQLAlchemy store builds from every version of the model
(`SqlAlchemyStore.get_registered_model` → `SqlRegisteredModel.to_mlflow_entity()`), and the
baseline's fallback reads `get-latest-versions`, built the same way.

{markdown_table(GROWTH_HEADERS, self.growth_rows())}

Where the time goes: each read a promotion makes, sent alone to the same server with nothing else
running, median of {ROUTE_SAMPLES} (the server's time plus loopback), per model size.

{markdown_table(["MLflow request", *(f"{size:,} versions" for size in SIZES)], self.route_rows())}

{self.growth_note()}

### The webhook receiver's cold start

`promote_model.webhook` (docs/webhooks.md) from the same code and layer assets, in fresh interpreters
as above: the import (median of {plan.init}), and {plan.cold} cold invocations (after one discarded), each
answering one signed delivery of the challenger alias as a Function URL passes it: it reads the
signing secret (Secrets Manager) and starts one execution (Step Functions), both played by a moto
server on loopback, so the AWS calls cost loopback time only.

{markdown_table(["Receiver", "Value"], self.receiver_rows())}

### What the Powertools Tracer costs at import

Fresh interpreters, medians of {plan.init}, same run. Creating a `Tracer()` imports the X-Ray SDK
even when tracing is disabled; outside Lambda (no `LAMBDA_TASK_ROOT`) the SDK's recorder also sets up
centralized sampling with a botocore session, which is most of its cost there. With tracing on it
patches every library it supports that is importable (botocore among them). Our handler creates the
Tracer only when tracing is enabled (promote_model.observability.traced); "tracing on" below is
`AWS_XRAY_DAEMON_ADDRESS` set and `POWERTOOLS_TRACE_DISABLED=false`, as the stack deploys the
function with `detailed_tracing: true`.
The cold invocation with tracing on is in the Results table.

{markdown_table(["Import", "Median", "Delta"], self.tracer_rows())}
"""

    def unmet_section(self) -> str:
        notes = self.unmet_notes()
        if not notes:
            return "Every target is met."
        return "### Targets not met, and why\n\n" + "\n\n".join(notes)

    def unmet_notes(self) -> list[str]:
        """For each target not met, why, in numbers from this run."""
        notes = []
        unmet = [row.metric for row in self.rows() if row.met is False]
        warm = {name: median(values) for name, values in self.warm.items()}
        small = self.growth.routes[SIZES[0]]
        search = small["GET model-versions/search, newest first, 100 (ours: the verification)"]
        get = small["GET model-versions/get (both, explicit)"]
        writes = self.writes
        together, in_turn = writes[AT_ONCE], writes[ONE_AFTER_ANOTHER]
        one_write = writes["POST model-versions/set-tag, alone"]
        for metric in unmet:
            if metric.startswith("Warm invocation p50, spec flow"):
                notes.append(
                    f"**{metric}**: ours {_ms(warm['ours'])}, baseline {_ms(warm['baseline'])} "
                    f"(+{_ms(warm['ours'] - warm['baseline'])}). Both make 3 round trips: ours sends its two reads "
                    "together (one round trip where the baseline makes two) and spends the round trip it saves on the "
                    f"verification read (GET model-versions/search), which alone takes {_ms(search)} at a "
                    f"{SIZES[0]}-version model, where a GET model-versions/get takes {_ms(get)}."
                )
            elif metric.startswith("Warm invocation p50, defaults"):
                line = self.timelines["ours-defaults"]["explicit"]
                notes.append(
                    f"**{metric}**: ours with the defaults {_ms(warm['ours-defaults'])}, ours' spec flow "
                    f"{_ms(warm['ours'])}, the baseline {_ms(warm['baseline'])}; 1.4x the baseline leaves "
                    f"{_ms(1.4 * warm['baseline'] - warm['ours'])} over ours' spec flow for the alias and 7 audit "
                    f"tags. They go out in one round trip, but this server takes {_ms(together)} to answer all 8 sent "
                    f"at once, {_ms(in_turn)} one after another, {_ms(one_write)} for one alone: MLflow's server "
                    "(one worker, SQLite) commits writes one at a time, so their cost is the server's, whatever the "
                    "client overlaps. In the counted "
                    f"promotion that round trip spanned {_ms(line.rounds[-1][1])} at the proxy (including its "
                    f"{WIRE_LATENCY_SECONDS * 1000:.0f} ms). MLflow has no batch call for version tags: fewer writes (fewer or combined tags, "
                    "or the tags off the critical path) is the lever on the function's side."
                )
            elif metric.startswith("MLflow requests: idempotent"):
                notes.append(
                    f"**{metric}**: ours sends 2 requests in 1 round trip (GET model-versions/get + GET "
                    "registered-models/get together: the model is read beside the version in case the version must "
                    "be promoted), where the baseline sends 1. The round trips are the same (1); the target counted "
                    "requests when each was a round trip of its own."
                )
            elif metric.startswith("Promotion p50 (warm)"):
                notes.append(
                    f"**{metric}**: {self.growth_note()} Ours' explicit promotion sends GET registered-models/get "
                    "in its first round trip, beside GET model-versions/get (for the version in Production that it "
                    "will archive), so that round trip takes as long as the slower of the two; MLflow's SQLAlchemy "
                    "store builds that answer's latest_versions from every version of the model. The verification "
                    "read stays flat (its row above)."
                )
            else:
                notes.append(f"**{metric}**: see the tables below.")
        return notes

    def growth_note(self) -> str:
        """What the growth rows say, in words computed from them."""
        small, large = SIZES[0], SIZES[-1]
        p50 = {n: {size: median(self.growth.samples[size][n].warm_ms) for size in SIZES} for n in ("ours", "baseline")}
        routes = self.growth.routes
        model = "GET registered-models/get (both)"
        ours, base = p50["ours"], p50["baseline"]
        return (
            f"Ours took {_ms(ours[small])} at {small} versions and {_ms(ours[large])} at {large:,} "
            f"({ours[large] / ours[small]:.2f}x); the baseline {_ms(base[small])} and {_ms(base[large])} "
            f"({base[large] / base[small]:.2f}x). GET registered-models/get, which both send on the explicit "
            f"path, took {_ms(routes[small][model])} alone at {small} versions and {_ms(routes[large][model])} at "
            f"{large:,} ({routes[large][model] - routes[small][model]:+,.0f} ms): the server's work, the same for "
            "every client that sends it."
        )


HEADERS = ("Metric", "Ours", "Baseline", "Ratio", "Target", "Target met")
GROWTH_HEADERS = (
    "Versions",
    "Ours p50",
    "Ours p95",
    "Baseline p50",
    "Baseline p95",
    "Ours peak RSS",
    "Baseline peak RSS",
)
