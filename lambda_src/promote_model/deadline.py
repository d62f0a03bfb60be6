"""The time one invocation may spend on network calls, derived from the Lambda's remaining time.

Two instants: the *budget*, which every call to MLflow and AWS shares, and the *hard limit*
(``ANSWER_MARGIN_SECONDS`` before Lambda would kill the invocation), which nothing may cross. The
few calls that must still run after the budget is spent (the read that finds out what a lost write
did, the event that says how the invocation ended) get a little more time, never past the hard limit
(docs/design.md §2).
"""

from __future__ import annotations

import time
from collections.abc import Callable

# Leave this much of the Lambda's own time beyond the budget for the calls that finish an invocation.
SAFETY_MARGIN_SECONDS = 10.0
# Whatever the Lambda allows, give up on the network after this long, so that with the outcome's
# event (a couple of seconds past the budget at most) the answer comes within about 25 s.
MAX_BUDGET_SECONDS = 22.0
# No call runs closer than this to Lambda's own deadline: the answer, its log line and metrics need it.
ANSWER_MARGIN_SECONDS = 1.5


class Deadline:
    def __init__(
        self, seconds: float, *, hard_seconds: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        now = clock()
        self._expires_at = now + max(seconds, 0.0)
        hard = seconds + SAFETY_MARGIN_SECONDS - ANSWER_MARGIN_SECONDS if hard_seconds is None else hard_seconds
        self._hard_expires_at = max(now + max(hard, 0.0), self._expires_at)

    @classmethod
    def for_invocation(cls, remaining_time_millis: int | None) -> Deadline:
        if remaining_time_millis is None:
            return cls(MAX_BUDGET_SECONDS)
        left = remaining_time_millis / 1000.0
        budget = min(left - SAFETY_MARGIN_SECONDS, MAX_BUDGET_SECONDS)
        hard = min(left - ANSWER_MARGIN_SECONDS, MAX_BUDGET_SECONDS + SAFETY_MARGIN_SECONDS)
        return cls(min(budget, hard), hard_seconds=hard)

    def remaining(self) -> float:
        return max(self._expires_at - self._clock(), 0.0)

    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def with_grace(self, seconds: float) -> Deadline:
        """This deadline moved ``seconds`` past the budget's end (never past the hard limit): for the
        events that report how the invocation ended, which all share this one grace period."""
        now = self._clock()
        extended = Deadline(0.0, clock=self._clock)
        extended._hard_expires_at = self._hard_expires_at
        extended._expires_at = max(min(self._expires_at + seconds, self._hard_expires_at), now)
        return extended

    def at_least(self, seconds: float) -> Deadline:
        """This deadline, or ``seconds`` from now if that is later, but never past the hard limit: for
        the one read that finds out what a lost write did, or the event that reports the outcome,
        which must not be starved by the call that used up the budget."""
        now = self._clock()
        hard_left = max(self._hard_expires_at - now, 0.0)
        extended = Deadline(min(max(self.remaining(), seconds), hard_left), clock=self._clock)
        extended._hard_expires_at = self._hard_expires_at
        return extended
