"""docs/performance.md, written from one run's ``Report``: every table of `make bench` with what it
measures and how; the numbers and the words about them come from the report, never typed in."""

from __future__ import annotations

from devtools.bench.counts import WIRE_LATENCY_SECONDS
from devtools.bench.growth import ROUTE_SAMPLES, SIZES
from devtools.bench.report import GROWTH_HEADERS, HEADERS, Report, format_met, format_ms, markdown_table
from devtools.bench.runtimes import HEADERS as RUNTIME_HEADERS
from devtools.bench.runtimes import runtime_rows


def performance_markdown(report: Report) -> str:
    """docs/performance.md: the tables of ``report``, with what each measures and how."""
    m, plan, growth = report.machine, report.plan, report.plan.growth
    rows = [[r.metric, r.ours, r.baseline, r.ratio, r.target, format_met(r.met)] for r in report.rows()]
    sizes = ", ".join(f"{size:,}" for size in SIZES)
    return f"""# Performance

Written by `make bench` (devtools/bench/run.py and its devtools/bench/ modules); do not edit by hand,
run it again. Last run: {m["date"]} on {m["arch"]}, {m["nproc"]} CPUs ({m["cpu"]}), Python {m["python"]};
the whole run took {m["duration"]}.

**Ours** is the handler exactly as the stack ships it: the code and layer assets of a fresh
`cdk synth` of the dev stack (.bench/cdk.out), with boto3 {report.boto3_version} beside it as the Lambda
runtime provides it. **Baseline** is the same promotion written the obvious way
(devtools/bench/baseline_handler.py): mlflow-skinny 3.17.2's `MlflowClient` (`get_model_version` or
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
  one cold and {report.warmup} untimed warm ones. "Defaults" is ours with the alias and every audit tag
  (7 tags, 8 writes after the verification), compared with the baseline's spec flow, which writes none.
- **MLflow requests and round trips** are counted at the server, by a counting reverse proxy in front of
  it (devtools/local/fault_proxy.py), per promotion, after one uncounted warm-up promotion. For this pass
  only, the proxy waits {WIRE_LATENCY_SECONDS * 1000:.0f} ms before forwarding each request (as a network between the
  function and MLflow would), so that requests sent together overlap there beyond any scheduling
  jitter; `FaultProxy.rounds()` groups them into sequential round trips: a request that starts
  before every request of the current group has answered is in flight with them. Every round trip
  of a promotion is on its critical path: the function answers after the last one.
- **Bundle**: every file of the code asset and the layer asset, and their zips (DEFLATED). The
  baseline's equivalent is its handler file plus the installed files of mlflow-skinny, Powertools,
  aws-xray-sdk and all their dependencies except what the Lambda runtime provides
  ({", ".join(report.lambda_provided)}).
- **Growth**: see [below](#cost-as-a-models-history-grows).

## Results

{markdown_table(HEADERS, rows)}

Bundle files: ours {report.ours_size.files}, baseline {report.baseline_size.files}
({", ".join(report.baseline_dists)}).

{report.unmet_section()}

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
            report.round_rows(),
        )
    }

### What one round trip costs at this server

Each request sent straight to the same server (no handler, no proxy), on a model of two versions;
medians of {plan.writes}, after one untimed round. The last two rows are the defaults' last round trip,
the alias and the 7 audit tags as the function writes them (5 on the new champion, 2 on the version
it archived): sent at once (one thread each, timed to the last answer), then one after another.

{markdown_table(["MLflow request", "Median"], [[label, format_ms(ms)] for label, ms in report.writes.items()])}

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
updated within a minute of its transition (promotion/settling.py's `CONCURRENCY_WINDOW_MS`), and a model
registered moments ago would have all of them in that window, as no model with a history does (the
run waits if the cache is younger). Ours reads one page of at most 100 versions there, newest first,
whatever the history; both handlers read `registered-models/get` (its `latest_versions`), which
MLflow's SQLAlchemy store builds from every version of the model
(`SqlAlchemyStore.get_registered_model` → `SqlRegisteredModel.to_mlflow_entity()`), and the
baseline's fallback reads `get-latest-versions`, built the same way.

{markdown_table(GROWTH_HEADERS, report.growth_rows())}

Where the time goes: each read a promotion makes, sent alone to the same server with nothing else
running, median of {ROUTE_SAMPLES} (the server's time plus loopback), per model size.

{markdown_table(["MLflow request", *(f"{size:,} versions" for size in SIZES)], report.route_rows())}

{report.growth_note()}

### The webhook receiver's cold start

`promote_model.webhook` (docs/webhooks.md) from the same code and layer assets, in fresh interpreters
as above: the import (median of {plan.init}), and {plan.cold} cold invocations (after one discarded), each
answering one signed delivery of the challenger alias as a Function URL passes it: it reads the
signing secret (Secrets Manager) and starts one execution (Step Functions), both played by a moto
server on loopback, so the AWS calls cost loopback time only.

{markdown_table(["Receiver", "Value"], report.receiver_rows())}

### Cold start per runtime

Our handler on each Lambda runtime it supports, on x86_64: the dev stack synthesized for that runtime
(its layer's compiled wheels and `.pyc` files for that ABI; .bench/runtimes/), run in fresh
interpreters of that Python version (pyenv's, where this machine has it; a runtime without one is
reported absent), with the Results table's variables. {plan.runtime_cold} cold invocations per runtime
(after one discarded), round-robin across runtimes, each a real promotion against the same MLflow
server; init is the handler's import, cold is init plus that first invocation. The last column
compares each runtime's cold p50 with python3.11's (the default) in this run.

{markdown_table(RUNTIME_HEADERS, runtime_rows(report.runtime_cold))}

### What the Powertools Tracer costs at import

Fresh interpreters, medians of {plan.init}, same run. Creating a `Tracer()` imports the X-Ray SDK
even when tracing is disabled; outside Lambda (no `LAMBDA_TASK_ROOT`) the SDK's recorder also sets up
centralized sampling with a botocore session, which is most of its cost there. With tracing on it
patches every library it supports that is importable (botocore among them). Our handler creates the
Tracer only when tracing is enabled (promote_model.observability.traced); "tracing on" below is
`AWS_XRAY_DAEMON_ADDRESS` set and `POWERTOOLS_TRACE_DISABLED=false`, as the stack deploys the
function with `detailed_tracing: true`.
The cold invocation with tracing on is in the Results table.

{markdown_table(["Import", "Median", "Delta"], report.tracer_rows())}
"""
