"""Alias mode, for registries without stages: the champion is the version holding the promotion
alias, and promoting moves the alias (one atomic MLflow call)."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from promote_model.errors import PromotionError
from promote_model.promotion.audit import (
    EXECUTION_ID_TAG,
    PREVIOUS_VERSION_TAG,
    finished,
    started_by_this_execution,
    tag_writes,
)
from promote_model.promotion.candidates import READY, not_ready, resolve_by_alias
from promote_model.promotion.outcomes import already_champion, announce
from promote_model.promotion.policy import Context
from promote_model.promotion.rollback import is_champion, resolve_rollback
from promote_model.registry import ModelVersion
from promote_model.results import DryRun, NotPromoted, Promoted, PromotionResult, ReasonCode
from promote_model.together import raise_first_error


def promote_by_alias(context: Context) -> PromotionResult:
    """The previous holder is the ``archived_version`` and is recorded as archived in its tags; no
    stage changes. Concurrent promotions converge by construction (the alias points at one version);
    each reads it back, and one whose version no longer holds it answers ``SUPERSEDED``."""
    request, policy, registry, name = context.request, context.policy, context.registry, context.name
    alias = policy.promotion_alias
    assert alias is not None  # the settings refuse alias mode without a promotion alias
    resolved = resolve_rollback(context) if request.rollback else resolve_by_alias(context, alias)
    if isinstance(resolved, NotPromoted):
        return replace(resolved, dry_run=request.dry_run)
    candidate, holder = resolved if not request.rollback else (resolved[0], None)
    if request.rollback and not is_champion(candidate, policy):
        holder = registry.get_version_by_alias(name, alias)

    if is_champion(candidate, policy):
        if started_by_this_execution(candidate, context) and not finished(candidate) and not request.dry_run:
            recorded = candidate.tag(PREVIOUS_VERSION_TAG)
            previous = None if recorded in (None, "none") else recorded
            return _complete_by_alias(context, candidate.version, previous, as_found=candidate)
        return already_champion(context, candidate)
    if candidate.status != READY:
        return not_ready(context, candidate)
    archived_version = holder.version if isinstance(holder, ModelVersion) else None
    if request.dry_run:
        return DryRun(
            name, candidate.version, archived_version, request.confidence, False, alias, new_stage=policy.champion_label
        )
    move = partial(registry.set_alias, name, alias, candidate.version)
    intent: dict[str, str] = {}
    if policy.audit_tags and request.execution_id is not None:
        intent = {EXECUTION_ID_TAG: request.execution_id, PREVIOUS_VERSION_TAG: archived_version or "none"}
    raise_first_error(context.together(move, *tag_writes(context, candidate.version, intent))[:1])
    return _complete_by_alias(context, candidate.version, archived_version)


def _complete_by_alias(
    context: Context, version: str, archived_version: str | None, *, as_found: ModelVersion | None = None
) -> Promoted | NotPromoted:
    alias = context.policy.promotion_alias
    assert alias is not None
    try:
        holder = context.registry.get_version_by_alias(context.name, alias)
    except PromotionError:
        holder = None  # cannot verify; the move itself succeeded
    if holder is not None and holder.version != version:
        return NotPromoted(
            ReasonCode.SUPERSEDED,
            f"Version {version} of model '{context.name}' was promoted, then superseded by a concurrent "
            f"promotion of version {holder.version}, which holds the alias '{alias}' now",
            model_name=context.name,
            new_version=version,
        )
    return announce(context, version, archived_version, as_found=as_found)
