"""The promotion rules: the spec's flowchart, docs/design.md §2, the champion alias, the audit trail and the
convergence rule for concurrent promotions. No network call of their own: the registry and the
alert publisher are passed in, and so is ``together``, which runs independent calls at once;
everything here is decisions.

One module per concern: ``policy`` (the settings and what the rules are given), ``candidates``
(which version a request promotes), ``rollback`` (which earlier champion a rollback restores),
``stage_mode`` and ``alias_mode`` (how each mode promotes), ``settling`` (concurrent promotions in
stage mode), ``outcomes`` (announcing a champion, or answering that it is one already) and ``audit``
(the tags a promotion leaves).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from promote_model.promotion.alias_mode import promote_by_alias
from promote_model.promotion.audit import (
    EXECUTION_ID_TAG,
    MAX_TAG_VALUE_LENGTH,
    PREVIOUS_VERSION_TAG,
    PROMOTED_AT_TAG,
    ROLLED_BACK_FROM_TAG,
    ROLLED_BACK_TO_TAG,
)
from promote_model.promotion.candidates import READY
from promote_model.promotion.policy import ALIAS_MODE, STAGE_MODE, AlertPublisher, Context, PromotionPolicy, Registry
from promote_model.promotion.settling import CONCURRENCY_WINDOW_MS, EMPTY_REPAIR_JITTER_SECONDS, MAX_SETTLE_ROUNDS
from promote_model.promotion.stage_mode import promote_by_stage
from promote_model.request import PromotionRequest
from promote_model.results import Promoted, PromotionResult
from promote_model.together import Together, one_after_another

__all__ = [
    "ALIAS_MODE",
    "CONCURRENCY_WINDOW_MS",
    "EMPTY_REPAIR_JITTER_SECONDS",
    "EXECUTION_ID_TAG",
    "MAX_SETTLE_ROUNDS",
    "MAX_TAG_VALUE_LENGTH",
    "PREVIOUS_VERSION_TAG",
    "PROMOTED_AT_TAG",
    "READY",
    "ROLLED_BACK_FROM_TAG",
    "ROLLED_BACK_TO_TAG",
    "STAGE_MODE",
    "AlertPublisher",
    "PromotionPolicy",
    "Registry",
    "promote",
]


def promote(
    request: PromotionRequest,
    *,
    registry: Registry,
    publisher: AlertPublisher | None,
    policy: PromotionPolicy,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    together: Together = one_after_another,
    pause: Callable[[float], None] = time.sleep,
    emit_event: Callable[[Promoted], bool] | None = None,
) -> PromotionResult:
    """``emit_event`` sends the ``promoted`` event (``True`` when delivered): a promised side effect
    like the notification, so a promotion is marked finished only after it (docs/delivery-guarantees.md)."""
    context = Context(request, registry, publisher, policy, together, now, pause, emit_event)
    if policy.alias_mode:
        return promote_by_alias(context)
    return promote_by_stage(context)
