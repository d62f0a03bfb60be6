"""Running independent registry calls at once: reads that do not depend on each other, and the
best-effort writes after a transition (alias, audit tags, notification).

A call's ``PromotionError`` is returned in its place, so the caller decides per call what a failure
means (a failed tag write is reported, a failed read is raised); any other exception propagates.
Each call still ends by the invocation's deadline: the registry's requests carry it.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from promote_model.errors import PromotionError

# The most requests one promotion has in flight at once: the alias, seven audit tags and the
# notification (the HTTP pool holds as many connections).
MAX_CONCURRENT_CALLS = 12


class Together(Protocol):
    def __call__(self, *calls: Callable[[], Any]) -> list[Any]:
        """Each call's result, or the ``PromotionError`` it raised, in the calls' order."""
        ...


def one_after_another(*calls: Callable[[], Any]) -> list[Any]:
    return [_captured(call) for call in calls]


class AtOnce:
    """Runs calls on a small thread pool kept for the execution environment's life."""

    def __init__(self, max_workers: int = MAX_CONCURRENT_CALLS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="promote-model")

    def __call__(self, *calls: Callable[[], Any]) -> list[Any]:
        if len(calls) <= 1:
            return one_after_another(*calls)
        futures = [self._pool.submit(_captured, call) for call in calls]
        return [future.result() for future in futures]


def raise_first_error(results: list[Any]) -> list[Any]:
    """The results, or the first ``PromotionError`` among them raised: for reads that must all succeed."""
    for result in results:
        if isinstance(result, PromotionError):
            raise result
    return results


def _captured(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except PromotionError as error:
        return error
