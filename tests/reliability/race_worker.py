"""A separate process that promotes on command, released together with its peers by a barrier."""

from __future__ import annotations

import os
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
