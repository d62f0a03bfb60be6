"""Concurrent promotions: a separate process that promotes on command, released together with its
peers by a barrier, and ``race``, which runs such contests."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import Any


def serve(env: dict[str, str], barrier: Barrier, tasks: Queue[Any], results: Queue[Any]) -> None:
    os.environ.update(env)
    from promote_model import handler
    from tests.support import LambdaContext

    while (task := tasks.get()) is not None:
        name, version = task
        barrier.wait(timeout=60)
        try:
            results.put(
                (version, handler.lambda_handler({"model_name": name, "new_version": version}, LambdaContext()))
            )
        except Exception as error:  # reported to the test, which fails on it
            results.put((version, {"error": f"{type(error).__name__}: {error}"}))


@dataclass(frozen=True)
class RaceOutcome:
    name: str
    answers: dict[str, dict[str, Any]]  # version -> what its invocation answered
    seconds: float  # from the release of the contenders to the last answer


def race(env: dict[str, str], new_model: Callable[[], str], *, trials: int, contenders: int) -> list[RaceOutcome]:
    """``trials`` times: a fresh model from ``new_model`` (versions 2..contenders+1 to promote), each
    version promoted by its own process (the function's settings in ``env``), all released together."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(contenders)
    results = context.Queue()
    worker_env = {"POWERTOOLS_TRACE_DISABLED": "true", "PYTHONPATH": os.pathsep.join(["lambda_src", "."]), **env}
    queues = [context.Queue() for _ in range(contenders)]
    workers = [context.Process(target=serve, args=(worker_env, barrier, q, results), daemon=True) for q in queues]
    for worker in workers:
        worker.start()
    outcomes = []
    try:
        for _ in range(trials):
            name = new_model()
            for queue, version in zip(queues, [str(v) for v in range(2, contenders + 2)], strict=True):
                queue.put((name, version))
            started = time.monotonic()
            answers = dict(results.get(timeout=120) for _ in range(contenders))
            outcomes.append(RaceOutcome(name, answers, time.monotonic() - started))
    finally:
        for queue in queues:
            queue.put(None)
        for worker in workers:
            worker.join(timeout=30)
    return outcomes
