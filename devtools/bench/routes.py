"""MLflow requests timed one by one, straight from the benchmark to the server (no handler, no proxy):
what a promotion's reads cost as a model grows, and what its writes cost alone and sent together.
"""

from __future__ import annotations

import json
import statistics
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

API = "/api/2.0/mlflow"
Call = tuple[str, str, dict[str, Any]]  # (method, route, parameters or JSON body)
AT_ONCE = "POST registered-models/alias + 7 set-tag, at once (the defaults' last round trip)"
ONE_AFTER_ANOTHER = "The same 8 writes, one after another"


def time_call(url: str, call: Call) -> float:
    """One request on a fresh connection (as the timed handlers' first request of a round), in ms."""
    method, route, payload = call
    target = f"{url}{API}/{route}"
    if method == "GET":
        request = urllib.request.Request(f"{target}?{urllib.parse.urlencode(payload)}")  # noqa: S310 (local)
    else:
        request = urllib.request.Request(  # noqa: S310 (the local MLflow server)
            target, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (the local MLflow server)
        response.read()
    return (time.perf_counter() - started) * 1000


def time_together(url: str, calls: Sequence[Call]) -> float:
    """``calls`` sent at once (one thread each), in ms until the last answer."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        started = time.perf_counter()
        list(pool.map(lambda call: time_call(url, call), calls))
        return (time.perf_counter() - started) * 1000


def medians(samples: int, measures: dict[str, Callable[[], float]], *, discard: int = 1) -> dict[str, float]:
    """Each measure ``samples`` times, round-robin, after ``discard`` untimed rounds; the medians."""
    values: dict[str, list[float]] = {label: [] for label in measures}
    for index in range(discard + samples):
        for label, measure in measures.items():
            value = measure()
            if index >= discard:
                values[label].append(value)
    return {label: statistics.median(v) for label, v in values.items()}


def write_costs(url: str, post: Callable[[str, dict[str, Any]], dict[str, Any]], samples: int) -> dict[str, float]:
    """A defaults promotion's last round trip (the alias and the 7 audit tags, as the function writes
    them: 5 on the new champion, 2 on the version it archived) sent at once and one after another,
    against one write alone, the transition and a read alone; on a fresh model of two versions
    (``post`` creates it)."""
    name = "writes-cost"
    post("registered-models/create", {"name": name})
    for _ in range(2):
        post("model-versions/create", {"name": name, "source": "s3://promote-model-bench/artifacts"})

    def tag(version: str, key: str) -> Call:
        return ("POST", "model-versions/set-tag", {"name": name, "version": version, "key": key, "value": "v"})

    alias: Call = ("POST", "registered-models/alias", {"name": name, "alias": "champion", "version": "2"})
    champion_tags = ["promoted_by", "previous_version", "confidence", "environment", "promoted_at"]
    last_round = [alias, *(tag("2", key) for key in champion_tags), tag("1", "archived_at"), tag("1", "superseded_by")]
    versions = iter(["1", "2"] * (samples + 2))

    def transition() -> float:
        body = {"name": name, "version": next(versions), "stage": "Production", "archive_existing_versions": True}
        return time_call(url, ("POST", "model-versions/transition-stage", body))

    return medians(
        samples,
        {
            "GET model-versions/get, alone": lambda: time_call(
                url, ("GET", "model-versions/get", {"name": name, "version": "1"})
            ),
            "POST model-versions/transition-stage, alone": transition,
            "POST model-versions/set-tag, alone": lambda: time_call(url, tag("2", "promoted_by")),
            AT_ONCE: lambda: time_together(url, last_round),
            ONE_AFTER_ANOTHER: lambda: sum(time_call(url, call) for call in last_round),
        },
    )
