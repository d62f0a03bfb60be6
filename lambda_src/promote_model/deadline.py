"""The time one invocation may spend on network calls, derived from the Lambda's remaining time."""

from __future__ import annotations

import time

# Leave this much of the Lambda's own time for logging, metrics and returning the answer.
SAFETY_MARGIN_SECONDS = 10.0
# Whatever the Lambda allows, give up on the registry after this long (docs/design.md §2: answer well
# before the 60-second timeout; the reliability issue asks for answers within 30 s).
MAX_BUDGET_SECONDS = 25.0


class Deadline:
    def __init__(self, seconds: float, *, clock=time.monotonic) -> None:
        self._clock = clock
        self._expires_at = clock() + max(seconds, 0.0)

    @classmethod
    def for_invocation(cls, remaining_time_millis: int | None) -> Deadline:
        if remaining_time_millis is None:
            return cls(MAX_BUDGET_SECONDS)
        available = remaining_time_millis / 1000.0 - SAFETY_MARGIN_SECONDS
        return cls(min(available, MAX_BUDGET_SECONDS))

    def remaining(self) -> float:
        return max(self._expires_at - self._clock(), 0.0)

    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def at_least(self, seconds: float) -> Deadline:
        """This deadline, or ``seconds`` from now if that is later: for the one read that finds out
        what a lost write did, which must not be starved by the write that used up the budget. It
        stays within the safety margin the Lambda keeps beyond the budget."""
        return Deadline(max(self.remaining(), seconds), clock=self._clock)
