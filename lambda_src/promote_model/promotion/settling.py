"""Settling concurrent promotions in stage mode: the convergence rule that leaves exactly one
version in Production (docs/design.md §2)."""

from __future__ import annotations

import random
from functools import partial

from promote_model.errors import PromotionError
from promote_model.promotion.audit import ARCHIVED_AT_TAG, SUPERSEDED_BY_TAG, tag_writes, timestamp_now
from promote_model.promotion.policy import Context
from promote_model.registry import ModelVersion
from promote_model.stages import ModelStage

# A concurrent promotion that could leave a second champion transitions within moments of ours; the
# verification reads the versions updated since our transition minus this much (server clock).
CONCURRENCY_WINDOW_MS = 60_000
# The verification reads, repairs and reads again until exactly one champion is left, at most this
# many rounds; when concurrent transitions left none, it pauses up to 0.2 s, 0.4 s, 0.8 s, ... first.
MAX_SETTLE_ROUNDS = 6
# A champion archived this shortly before a transition that archived nothing was replaced by a
# concurrent promotion of the same contest (the previous champion the winner names).
CONTEST_WINDOW_MS = 5_000
EMPTY_REPAIR_JITTER_SECONDS = 0.2


def settle_champion(context: Context, promoted: ModelVersion) -> tuple[str | None, list[ModelVersion]]:
    """Verify that exactly one version is in Production, and repair it if not.

    MLflow's archive step does not lock, so concurrent promotions can leave several champions, or
    none (two transitions each archiving the other). Our transition archived every version in
    Production when it ran, so any other champion now was transitioned at about the same moment: the
    versions updated since then (newest first, one page whatever the model's history) are the ones
    to check. Every invocation applies the same rule, so they converge instead of fighting: the
    version transitioned last (then the highest number) stays, the others are archived; when none is
    left, each waits a random moment and, if there is still none, transitions its own version again
    (whoever goes first wins; the others then see it). Returns the champion, or ``None`` when it
    cannot be verified (the transition itself has succeeded either way), and the versions the first
    verification read found.
    """
    since = promoted.last_updated_timestamp - CONCURRENCY_WINDOW_MS
    registry, name = context.registry, context.name
    try:
        recent = registry.versions_updated_since(name, since)
        champions = _champions(recent)
        for attempt in range(MAX_SETTLE_ROUNDS):
            if len(champions) == 1:
                return champions[0].version, recent
            if champions:
                # Archive the losers, then look again: a version archived on a stale view may have been
                # transitioned again meanwhile, and only a fresh read can say one champion is left.
                winner = max(champions, key=lambda v: (v.last_updated_timestamp, int(v.version)))
                losers = [v.version for v in champions if v != winner]
                archives = [partial(registry.archive, name, loser) for loser in losers]
                if any(isinstance(result, PromotionError) for result in context.together(*archives)):
                    return None, recent
                record_archives(context, losers, winner.version)
            else:
                # None left: wait a random moment (longer each round, so that contenders spread out),
                # and if there is still none, restore our own; whoever goes first wins.
                context.pause(random.uniform(0.0, EMPTY_REPAIR_JITTER_SECONDS * 2**attempt))
                if not _champions(registry.versions_updated_since(name, since)):
                    registry.transition_to_production(name, promoted.version)
            champions = _champions(registry.versions_updated_since(name, since))
    except PromotionError:
        return None, []
    return None, recent


def record_archives(context: Context, losers: list[str], winner: str) -> None:
    """The audit trail of the versions a settling round archived, as a promotion records the champion
    it replaced (best effort: the archive is what settles the race)."""
    if not context.policy.audit_tags or not losers:
        return
    stamp = timestamp_now(context)
    tags = {ARCHIVED_AT_TAG: stamp, SUPERSEDED_BY_TAG: winner}
    context.together(*(write for loser in losers for write in tag_writes(context, loser, tags)))


def archived_by(promoted: ModelVersion, recent: list[ModelVersion]) -> str | None:
    """The version the transition of ``promoted`` replaced: MLflow archives it in the transition's
    own write, with the transition's timestamp."""
    others = [v for v in recent if v.current_stage == ModelStage.ARCHIVED.value and v.version != promoted.version]
    archived = [v for v in others if v.last_updated_timestamp == promoted.last_updated_timestamp]
    if archived:
        return max(archived, key=lambda v: int(v.version)).version
    # Nothing was in Production when it ran: a concurrent transition had just archived the champion
    # (MLflow does not lock). The champion replaced is then the one archived last, moments before it.
    at = promoted.last_updated_timestamp
    before = [v for v in others if at - CONTEST_WINDOW_MS <= v.last_updated_timestamp <= at]
    return max(before, key=lambda v: (v.last_updated_timestamp, int(v.version))).version if before else None


def _champions(versions: list[ModelVersion]) -> list[ModelVersion]:
    return [v for v in versions if v.in_production]
