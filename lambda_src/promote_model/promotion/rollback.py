"""Rollback: which earlier champion a rollback restores. The restore itself is a promotion of that
version in the policy's mode."""

from __future__ import annotations

from promote_model.promotion.audit import (
    ARCHIVED_AT_TAG,
    PREVIOUS_VERSION_TAG,
    ROLLED_BACK_TO_TAG,
    started_by_this_execution,
)
from promote_model.promotion.candidates import READY, model_not_found
from promote_model.promotion.policy import Context, PromotionPolicy
from promote_model.registry import ModelVersion, RegisteredModel
from promote_model.results import NotPromoted, ReasonCode
from promote_model.stages import ModelStage


def resolve_rollback(context: Context) -> tuple[ModelVersion, RegisteredModel | None] | NotPromoted:
    """The version the current champion replaced (its ``previous_version`` tag), else the most
    recently archived version — never one a rollback abandoned (``rolled_back_to``), so rolling back
    twice steps further back in history (A→B, back to A, back to A's predecessor) instead of
    swinging between two versions. A retry of this execution's own rollback is answered as such."""
    name, registry, policy = context.name, context.registry, context.policy
    model = registry.get_registered_model(name)
    if model is None:
        return model_not_found(name)
    if policy.alias_mode:
        assert policy.promotion_alias is not None
        champion = registry.get_version_by_alias(name, policy.promotion_alias)
    else:
        latest = model.latest_in(ModelStage.PRODUCTION)
        champion = registry.get_model_version(name, latest.version) if latest is not None else None
    if champion is None:
        return _no_rollback_target(name, f"it has no champion ({policy.champion_label}) to roll back from")
    if started_by_this_execution(champion, context):
        return champion, None  # a retry of this rollback (see the modes)

    def eligible(version: ModelVersion | None) -> bool:
        return (
            version is not None
            and version.version != champion.version
            and not is_champion(version, policy)
            and version.status == READY
            and version.tag(ROLLED_BACK_TO_TAG) is None
        )

    recorded = champion.tag(PREVIOUS_VERSION_TAG)
    if recorded not in (None, "none"):
        previous = registry.get_model_version(name, recorded)
        if eligible(previous):
            assert previous is not None
            return previous, model
    for version in _archived_newest_first(registry.versions_updated_since(name, 0), policy):
        if eligible(version):
            return version, model
    return _no_rollback_target(name, f"no earlier champion of version {champion.version} can be restored")


def is_champion(version: ModelVersion, policy: PromotionPolicy) -> bool:
    if policy.alias_mode:
        return policy.promotion_alias in version.aliases
    return version.in_production


def _archived_newest_first(versions: list[ModelVersion], policy: PromotionPolicy) -> list[ModelVersion]:
    """Former champions, most recently archived first: in stage mode the ``Archived`` stage (the
    search answers newest first); in alias mode the versions tagged ``archived_at``."""
    if not policy.alias_mode:
        return [v for v in versions if v.current_stage == ModelStage.ARCHIVED.value]
    tagged = [v for v in versions if v.tag(ARCHIVED_AT_TAG) is not None]
    return sorted(tagged, key=lambda v: v.tag(ARCHIVED_AT_TAG) or "", reverse=True)


def _no_rollback_target(name: str, why: str) -> NotPromoted:
    return NotPromoted(ReasonCode.NO_ROLLBACK_TARGET, f"Model '{name}' cannot be rolled back: {why}", model_name=name)
