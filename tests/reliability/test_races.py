"""Concurrent promotions of one model, from separate processes released together, converge on
exactly one champion, and each invocation's result tells the truth about what it did."""

from __future__ import annotations

import multiprocessing
import os
import time

from tests.reliability.race_worker import serve
from tests.support import register_model, stages

TRIALS = 20
CONTENDERS = 4


def test_concurrent_promotions_leave_exactly_one_champion(mlflow_url, mlflow_client, moto, record_fault):
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(CONTENDERS)
    results = context.Queue()
    env = {
        "MLFLOW_TRACKING_URI": mlflow_url,
        "ALERTS_ENABLED": "false",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "PYTHONPATH": os.pathsep.join(["lambda_src", "."]),
    }
    queues = [context.Queue() for _ in range(CONTENDERS)]
    workers = [context.Process(target=serve, args=(env, barrier, q, results), daemon=True) for q in queues]
    for worker in workers:
        worker.start()
    outcomes = []
    slowest = 0.0
    try:
        for _ in range(TRIALS):
            # champion v1 and four challengers, each promoted by its own process at the same moment
            name = register_model(mlflow_client, ["Production"] + ["Staging"] * CONTENDERS)
            for queue, version in zip(queues, ["2", "3", "4", "5"], strict=True):
                queue.put((name, version))
            started = time.monotonic()
            answers = dict(results.get(timeout=120) for _ in range(CONTENDERS))
            slowest = max(slowest, time.monotonic() - started)
            outcomes.append((name, answers, stages(mlflow_client, name)))
    finally:
        for queue in queues:
            queue.put(None)
        for worker in workers:
            worker.join(timeout=30)

    superseded = 0
    for name, answers, final in outcomes:
        champions = [v for v, stage in final.items() if stage == "Production"]
        assert len(champions) == 1, f"{name}: {final}"
        [champion] = champions
        assert all("error" not in answer for answer in answers.values()), answers
        # the champion's own invocation says it promoted it
        assert answers[champion]["promoted"] is True
        for version, answer in answers.items():
            if answer["promoted"] is False:
                superseded += 1
                assert answer["reason_code"] == "SUPERSEDED"
                assert version != champion
                assert f"version {champion}" in answer["reason"] or final[version] == "Archived"
    record_fault(
        f"{CONTENDERS} concurrent promotions of one model, separate processes ({TRIALS} trials)",
        f"exactly one champion in {TRIALS}/{TRIALS} trials; {superseded} invocations answered `SUPERSEDED`",
        "one version in Production",
        slowest,
    )
