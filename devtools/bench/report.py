"""The report of `make bench`: the Target/met table, the tables beside it, and why a target is not met.

Everything it states is computed here from one run's measurements (``Report``); docs/performance.md,
the same tables with prose saying how each was taken, is written by ``devtools.bench.performance_doc``.
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

from devtools.bench.counts import SCENARIOS, WIRE_LATENCY_SECONDS, Rounds, Timeline, requests, route_names
from devtools.bench.growth import SIZES, Growth, GrowthPlan
from devtools.bench.routes import AT_ONCE, ONE_AFTER_ANOTHER
from devtools.bench.runtimes import RuntimeColdStarts, runtime_rows


@dataclass(frozen=True)
class Plan:
    init: int = 15  # fresh interpreters per import timing
    cold: int = 50  # cold invocations per handler
    cold_traced: int = 20  # of those, how many also run with detailed tracing on
    warm: int = 50  # timed warm invocations per handler
    writes: int = 9  # samples of each write timed alone or together
    growth: GrowthPlan = field(default_factory=lambda: GrowthPlan(warm=20, cold=3))  # per variant and size
    runtime_cold: int = 20  # cold invocations per Lambda runtime (devtools/bench/runtimes.py)


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


def format_ms(value: float) -> str:
    return f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"


def format_mb(value: float) -> str:
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


def format_met(value: bool | None) -> str:
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
    receiver_cold: list[dict[str, Any]]  # the webhook receiver's cold invocations (devtools/bench/receiver.py)
    runtime_cold: list[RuntimeColdStarts]  # our handler's cold invocations per Lambda runtime

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
            Row("Init: import the handler (median)", format_ms(ours), format_ms(base), _speedup(ours, base), ">= 4x faster", base / ours >= 4),
            Row(f"Init vs floor (import boto3 alone: {format_ms(floor)})", f"{ours / floor:.2f}x floor", f"{base / floor:.2f}x floor",
                "", "ours <= 1.5x floor", ours / floor <= 1.5),
            Row("Cold invocation p50 (init + 1 promotion)", format_ms(cold_p50["ours"]), format_ms(cold_p50["baseline"]),
                _speedup(cold_p50["ours"], cold_p50["baseline"]), ">= 3x faster", cold_p50["baseline"] / cold_p50["ours"] >= 3),
            Row("Cold: the promotion alone, after the import (p50)", format_ms(median(cold_invoke["ours"])),
                format_ms(median(cold_invoke["baseline"])), _speedup(median(cold_invoke["ours"]), median(cold_invoke["baseline"])),
                "", None),
            Row("Cold invocation p95", format_ms(p95(cold_ms["ours"])), format_ms(p95(cold_ms["baseline"])),
                _speedup(p95(cold_ms["ours"]), p95(cold_ms["baseline"])), "", None),
            Row("Cold invocation p50, detailed_tracing on (X-Ray active, sampled)", format_ms(cold_p50["ours-traced"]),
                format_ms(cold_p50["baseline-traced"]), _speedup(cold_p50["ours-traced"], cold_p50["baseline-traced"]), "", None),
            Row("Warm invocation p50, spec flow (alias and tags off)", format_ms(warm_p50["ours"]), format_ms(warm_p50["baseline"]),
                _times(warm_p50["ours"], warm_p50["baseline"]), "<= 1.0x baseline", warm_p50["ours"] <= warm_p50["baseline"]),
            Row("Warm invocation p95, spec flow", format_ms(p95(warm["ours"])), format_ms(p95(warm["baseline"])),
                _times(p95(warm["ours"]), p95(warm["baseline"])), "", None),
            Row("Warm invocation p50, defaults (alias + all audit tags) vs the baseline's spec flow",
                format_ms(warm_p50["ours-defaults"]), format_ms(warm_p50["baseline"]), _times(warm_p50["ours-defaults"], warm_p50["baseline"]),
                "<= 1.4x baseline", warm_p50["ours-defaults"] <= 1.4 * warm_p50["baseline"]),
            Row("Warm invocation p95, defaults vs the baseline's spec flow", format_ms(p95(warm["ours-defaults"])),
                format_ms(p95(warm["baseline"])), _times(p95(warm["ours-defaults"]), p95(warm["baseline"])), "", None),
            Row("Peak RSS of a cold invocation (median)", format_mb(rss["ours"]), format_mb(rss["baseline"]),
                f"{rss['ours'] / rss['baseline']:.0%} of baseline", "<= 50%", rss["ours"] / rss["baseline"] <= 0.5),
            Row("Bundle, unzipped (code + layer)", format_mb(size_o.unzipped), format_mb(size_b.unzipped),
                f"{size_o.unzipped / size_b.unzipped:.1%} of baseline", "<= 15%", size_o.unzipped / size_b.unzipped <= 0.15),
            Row("Bundle, zipped (DEFLATED)", format_mb(size_o.zipped), format_mb(size_b.zipped),
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
            Row(f"Peak RSS of a cold invocation, {large:,} versions (median)", format_mb(rss_large["ours"]),
                format_mb(rss_large["baseline"]), f"{rss_large['ours'] / rss_large['baseline']:.0%} of baseline", "<= 64 MB",
                rss_large["ours"] <= 64e6),
        ]  # fmt: skip
        return rows

    def tracer_rows(self) -> list[list[str]]:
        init = {name: median(values) for name, values in self.init.items()}
        base, local_base, floor = init["powertools"], init["powertools-local"], init["floor"]

        def delta(name: str, over: float) -> str:
            return f"+{format_ms(init[name] - over)}"

        def vs_floor(name: str) -> str:
            return f"{init[name] / floor:.2f}x floor"

        return [
            ["Powertools Logger() + Metrics() (layer + boto3), in Lambda", format_ms(base), ""],
            ["... + Tracer(), in Lambda, POWERTOOLS_TRACE_DISABLED=true", format_ms(init["tracer-off"]), delta("tracer-off", base)],
            ["... + Tracer(), in Lambda, tracing on (patches every library it knows)", format_ms(init["tracer-on"]),
             delta("tracer-on", base)],
            ["... + Tracer(patch_modules=['httplib']), in Lambda, tracing on", format_ms(init["tracer-on-httplib"]),
             delta("tracer-on-httplib", base)],
            ["... + Tracer(), outside Lambda (tests, CLI, local workflow), tracing disabled", format_ms(init["tracer-local"]),
             f"+{format_ms(init['tracer-local'] - local_base)} over {format_ms(local_base)}"],
            ["Our handler import, in Lambda, tracing disabled (the Init row)", format_ms(init["ours"]), vs_floor("ours")],
            ["Our handler import, outside Lambda, tracing disabled", format_ms(init["ours-local"]), vs_floor("ours-local")],
            ["Our handler import, in Lambda, tracing on (the stack with detailed_tracing: true; its default leaves it off)", format_ms(init["ours-traced"]),
             vs_floor("ours-traced")],
            ["... the same, with the Tracer patching httplib only", format_ms(init["ours-traced-httplib"]),
             vs_floor("ours-traced-httplib")],
        ]  # fmt: skip

    def receiver_rows(self) -> list[list[str]]:
        init = median(self.init["receiver"])
        total = [a["total_ms"] for a in self.receiver_cold]
        return [
            ["Init: import promote_model.webhook (median)", format_ms(init)],
            ["Cold invocation p50 (init + 1 signed delivery: secret read, StartExecution)", format_ms(median(total))],
            [
                "Cold: the delivery alone, after the import (p50)",
                format_ms(median([a["invoke_ms"] for a in self.receiver_cold])),
            ],
            ["Cold invocation p95", format_ms(p95(total))],
            [
                "Peak RSS of a cold invocation (median)",
                format_mb(median([a["peak_rss_kb"] * 1024 for a in self.receiver_cold])),
            ],
        ]

    def console(self) -> str:
        rows = [[r.metric, r.ours, r.baseline, r.ratio, r.target, format_met(r.met).strip("*")] for r in self.rows()]
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
                          "Writes:", *(f"  {label}: {format_ms(ms)}" for label, ms in self.writes.items()), "",
                          "Webhook receiver:", *(f"  {label}: {value}" for label, value in self.receiver_rows()), "",
                          "Cold start per runtime: runtime | interpreter | init p50 | cold p50 | p95 | peak RSS | vs 3.11:",
                          *(f"  {' | '.join(row)}" for row in runtime_rows(self.runtime_cold)), "",
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
            rows.append([f"{size:,}", format_ms(median(ours.warm_ms)), format_ms(p95(ours.warm_ms)), format_ms(median(base.warm_ms)),
                         format_ms(p95(base.warm_ms)), format_mb(median([kb * 1024 for kb in ours.peak_rss_kb])),
                         format_mb(median([kb * 1024 for kb in base.peak_rss_kb]))])  # fmt: skip
        return rows

    def route_rows(self) -> list[list[str]]:
        labels = list(next(iter(self.growth.routes.values())))
        return [[label, *(format_ms(self.growth.routes[size][label]) for size in SIZES)] for label in labels]

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
                    f"**{metric}**: ours {format_ms(warm['ours'])}, baseline {format_ms(warm['baseline'])} "
                    f"(+{format_ms(warm['ours'] - warm['baseline'])}). Both make 3 round trips: ours sends its two reads "
                    "together (one round trip where the baseline makes two) and spends the round trip it saves on the "
                    f"verification read (GET model-versions/search), which alone takes {format_ms(search)} at a "
                    f"{SIZES[0]}-version model, where a GET model-versions/get takes {format_ms(get)}."
                )
            elif metric.startswith("Warm invocation p50, defaults"):
                line = self.timelines["ours-defaults"]["explicit"]
                notes.append(
                    f"**{metric}**: ours with the defaults {format_ms(warm['ours-defaults'])}, ours' spec flow "
                    f"{format_ms(warm['ours'])}, the baseline {format_ms(warm['baseline'])}; 1.4x the baseline leaves "
                    f"{format_ms(1.4 * warm['baseline'] - warm['ours'])} over ours' spec flow for the alias and 7 audit "
                    f"tags. They go out in one round trip, but this server takes {format_ms(together)} to answer all 8 sent "
                    f"at once, {format_ms(in_turn)} one after another, {format_ms(one_write)} for one alone: MLflow's server "
                    "(one worker, SQLite) commits writes one at a time, so their cost is the server's, whatever the "
                    "client overlaps. In the counted "
                    f"promotion that round trip spanned {format_ms(line.rounds[-1][1])} at the proxy (including its "
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
            f"Ours took {format_ms(ours[small])} at {small} versions and {format_ms(ours[large])} at {large:,} "
            f"({ours[large] / ours[small]:.2f}x); the baseline {format_ms(base[small])} and {format_ms(base[large])} "
            f"({base[large] / base[small]:.2f}x). GET registered-models/get, which both send on the explicit "
            f"path, took {format_ms(routes[small][model])} alone at {small} versions and {format_ms(routes[large][model])} at "
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
