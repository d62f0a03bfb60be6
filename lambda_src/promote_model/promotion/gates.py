"""The promotion gates: checks on a resolved candidate before anything is written. A candidate that
fails one is not promoted, and the answer carries the failed gate's reason code.

Reads only: the candidate's tags and the metric of the candidate's and the champion's runs.
"""

from __future__ import annotations

import math
from functools import partial

from promote_model.gate_settings import MAXIMIZE, GateSettings
from promote_model.promotion.policy import Context
from promote_model.registry import ModelVersion
from promote_model.results import GateCheck, NotPromoted, ReasonCode
from promote_model.together import raise_first_error

# Two floats whose difference is this close to the minimum improvement meet it: 0.9 - 0.8 is
# 0.09999999999999998 in binary floating point, and must pass a minimum of 0.1.
_RELATIVE_TOLERANCE = 1e-9
_ABSOLUTE_TOLERANCE = 1e-12
METRIC_GATE = "GATE_METRIC"


def improvement(candidate: float, champion: float, goal: str) -> float:
    """How much better the candidate is than the champion (negative: worse; NaN when either is NaN)."""
    return candidate - champion if goal == MAXIMIZE else champion - candidate


def meets(gained: float, minimum: float) -> bool:
    """At least ``minimum``: equal passes, NaN never does, float rounding does not decide."""
    if math.isnan(gained):
        return False
    return gained >= minimum or math.isclose(gained, minimum, rel_tol=_RELATIVE_TOLERANCE, abs_tol=_ABSOLUTE_TOLERANCE)


def evaluate_gates(context: Context, candidate: ModelVersion, champion: ModelVersion | None) -> tuple[GateCheck, ...]:
    """Every configured gate's check, in the order of the settings (no gate: an empty tuple)."""
    gates, request = context.policy.gates, context.request
    checks: list[GateCheck] = []
    if gates.min_confidence > 0:
        checks.append(_confidence(request.confidence, gates.min_confidence))
    if gates.required_tags:
        checks.append(_required_tags(context, candidate, gates))
    if gates.metric is not None:
        checks.append(_metric(context, candidate, champion, gates))
    return tuple(checks)


def check_gates(
    context: Context, candidate: ModelVersion, champion: ModelVersion | None
) -> tuple[tuple[GateCheck, ...], NotPromoted | None]:
    """Every configured gate's check, and the answer that ends the request when one failed. A
    rollback passes no gate: it restores a version that was the champion before."""
    if context.request.rollback:
        return (), None
    checks = evaluate_gates(context, candidate, champion)
    return checks, gated_out(context, candidate, checks)


def gated_out(context: Context, candidate: ModelVersion, checks: tuple[GateCheck, ...]) -> NotPromoted | None:
    """The answer for the first failed gate, or ``None`` when every gate passed."""
    failed = next((check for check in checks if not check.passed), None)
    if failed is None:
        return None
    assert failed.reason_code is not None
    return NotPromoted(
        failed.reason_code,
        f"Version {candidate.version} of model '{context.name}' was not promoted: {failed.detail}",
        model_name=context.name,
        new_version=candidate.version,
        dry_run=context.request.dry_run,
        gates=checks,
    )


def _confidence(confidence: float, minimum: float) -> GateCheck:
    if confidence >= minimum:
        return GateCheck("MIN_CONFIDENCE", True, f"confidence {confidence:g} is at least {minimum:g}")
    return GateCheck(
        "MIN_CONFIDENCE",
        False,
        f"confidence {confidence:g} is below the minimum {minimum:g}",
        ReasonCode.CONFIDENCE_BELOW_MINIMUM,
    )


def _required_tags(context: Context, candidate: ModelVersion, gates: GateSettings) -> GateCheck:
    if not candidate.tags:  # a version from latest_versions carries no tags: read it
        candidate = context.registry.get_model_version(candidate.name, candidate.version) or candidate
    missing = [f"{key}={value}" for key, value in gates.required_tags if candidate.tag(key) != value]
    if missing:
        return GateCheck(
            "REQUIRED_VERSION_TAGS",
            False,
            f"version {candidate.version} lacks the tag {', '.join(missing)}",
            ReasonCode.REQUIRED_TAG_MISSING,
        )
    return GateCheck("REQUIRED_VERSION_TAGS", True, f"version {candidate.version} carries every required tag")


def _metric(context: Context, candidate: ModelVersion, champion: ModelVersion | None, gates: GateSettings) -> GateCheck:
    assert gates.metric is not None
    metric, registry = gates.metric, context.registry
    if candidate.run_id is None:
        return _metric_missing(metric, f"version {candidate.version} has no run to read '{metric}' from")
    runs = [candidate.run_id] + ([champion.run_id] if champion is not None and champion.run_id else [])
    found = raise_first_error(context.together(*(partial(registry.get_run_metrics, run) for run in runs)))
    candidate_metrics = found[0]
    if candidate_metrics is None:
        return _metric_missing(metric, f"the run of version {candidate.version} does not exist")
    value = candidate_metrics.get(metric)
    if value is None or math.isnan(value):
        what = "is NaN on" if value is not None else "was not logged on"
        return _metric_missing(metric, f"'{metric}' {what} the run of version {candidate.version}")
    if champion is None:
        return GateCheck(METRIC_GATE, True, f"'{metric}' is {value:g}; there is no champion to compare with")
    champion_metrics = found[1] if len(found) > 1 else None
    previous = None if champion_metrics is None else champion_metrics.get(metric)
    if previous is None or math.isnan(previous):
        why = "has no run" if champion.run_id is None else "has no value of it"
        return GateCheck(METRIC_GATE, True, f"'{metric}' is {value:g}; the champion (version {champion.version}) {why}")
    gained = improvement(value, previous, gates.metric_goal)
    comparison = (
        f"'{metric}' is {value:g} against the champion's (version {champion.version}) {previous:g} "
        f"({gates.metric_goal}, an improvement of {gained:g}, at least {gates.min_improvement:g} required)"
    )
    if meets(gained, gates.min_improvement):
        return GateCheck(METRIC_GATE, True, comparison)
    return GateCheck(METRIC_GATE, False, comparison, ReasonCode.METRIC_NOT_IMPROVED)


def _metric_missing(metric: str, detail: str) -> GateCheck:
    return GateCheck(METRIC_GATE, False, detail, ReasonCode.METRIC_MISSING)
