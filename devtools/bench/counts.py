"""The requests MLflow receives per promotion, and the sequential round trips they make, counted at the
server's door by a proxy in front of it (devtools/local/fault_proxy.py).

The counting proxy adds ``WIRE_LATENCY_SECONDS`` before forwarding each request, as a network
between the function and MLflow would, so that requests sent together overlap at the proxy beyond
any scheduling jitter and ``FaultProxy.rounds()`` groups them reliably. Only this pass has it; no
timed run goes through the proxy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from devtools.bench.children import Children, Variant, check_promoted
from devtools.bench.registry import Registry
from devtools.local.fault_proxy import fault_proxy

WIRE_LATENCY_SECONDS = 0.05  # as tests/bench/test_request_counts.py
SCENARIOS = ("explicit", "fallback", "idempotent")

Route = tuple[str, str]  # (method, path)
Rounds = list[list[Route]]  # one list of requests per sequential round trip, each sorted


@dataclass(frozen=True)
class Timeline:
    """One counted promotion as the proxy saw it (with its added latency): per round trip, the time
    since the previous one's last answer left the proxy (before the first: since the invocation
    began) and its span at the proxy (first request in to last answer out); then the time after the
    last answer until the handler returned."""

    rounds: list[tuple[float, float]]  # (gap before, span), ms
    after_ms: float
    total_ms: float


def _timeline(exchanges: list[tuple[float, float, str, str]], began: float, ended: float) -> Timeline:
    spans: list[tuple[float, float]] = []  # (start, end) per round, grouped as FaultProxy.rounds() does
    for start, end, _, _ in sorted(exchanges):
        if spans and start < spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    rounds, previous = [], began
    for start, end in spans:
        rounds.append(((start - previous) * 1000, (end - start) * 1000))
        previous = end
    return Timeline(rounds, (ended - previous) * 1000, (ended - began) * 1000)


@dataclass
class Counted:
    rounds: dict[str, dict[str, Rounds]] = field(default_factory=dict)  # variant -> kind -> round trips
    timelines: dict[str, dict[str, Timeline]] = field(default_factory=dict)


def promotion_rounds(children: Children, registry: Registry, upstream: str, variants: tuple[Variant, ...]) -> Counted:
    """Per variant and promotion kind, its round trips, after one uncounted warm-up promotion."""
    counted = Counted()
    with fault_proxy(upstream, latency=WIRE_LATENCY_SECONDS) as proxy:
        for variant in variants:
            prefix = f"counts-{variant.name}"
            per_kind: dict[str, Rounds] = {}
            timelines: dict[str, Timeline] = {}
            with children.serving(variant, proxy.url) as server:
                server.invoke(registry.promotions(f"{prefix}-warmup", 1)[0])
                explicit_model, fallback_model = registry.model(prefix, 1), registry.model(prefix, 1)
                events: dict[str, dict[str, Any]] = {
                    "explicit": {"model_name": explicit_model, "new_version": "2", "confidence": 0.85},
                    "fallback": {"model_name": fallback_model, "confidence": 0.85},
                    "idempotent": {"model_name": explicit_model, "new_version": "2", "confidence": 0.85},
                }
                for kind in SCENARIOS:
                    proxy.rounds()
                    proxy.take()
                    began = time.monotonic()  # the proxy's clock
                    _, result = server.invoke(events[kind])
                    ended = time.monotonic()
                    timelines[kind] = _timeline(list(proxy.exchanges), began, ended)
                    per_kind[kind] = [sorted(round_trip) for round_trip in proxy.rounds()]
                    check_promoted(variant, result, events[kind])
                    if (kind == "idempotent") != bool(result.get("already_promoted")):
                        raise SystemExit(f"{variant.name}: unexpected answer to the {kind} promotion: {result}")
            counted.rounds[variant.name] = per_kind
            counted.timelines[variant.name] = timelines
    return counted


def requests(rounds: Rounds) -> int:
    return sum(len(round_trip) for round_trip in rounds)


def route_names(rounds: Rounds) -> str:
    """``GET a + GET b → POST c → POST d x7``: each round trip's routes, repeats folded."""

    def one(round_trip: list[Route]) -> str:
        names = [f"{method} {path.removeprefix('/api/2.0/mlflow/')}" for method, path in round_trip]
        folded = [(name, names.count(name)) for name in dict.fromkeys(names)]
        return " + ".join(name if times == 1 else f"{name} x{times}" for name, times in folded)

    return " → ".join(one(round_trip) for round_trip in rounds)
