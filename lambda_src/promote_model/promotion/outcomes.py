"""How a promotion ends, in either mode: announcing a verified champion (alias, audit tags,
notification) or answering that the candidate is the champion already."""

from __future__ import annotations

from functools import partial

from promote_model.alerts import PromotionNotice
from promote_model.errors import PromotionError
from promote_model.promotion.audit import ROLLED_BACK_FROM_TAG, ROLLED_BACK_TO_TAG, audit_tag_writes, tag_writes
from promote_model.promotion.policy import Context
from promote_model.registry import ModelVersion
from promote_model.results import DryRun, Promoted


def announce(context: Context, version: str, archived_version: str | None) -> Promoted:
    """What follows a verified transition, all at once and each best effort: the alias, the audit tags
    (``promoted_at`` among them) and the notification. A failure is reported per field. (In alias
    mode the alias was the promotion itself, so it is not written again.)"""
    request, policy = context.request, context.policy
    alias = policy.promotion_alias
    notice = PromotionNotice(
        model_name=context.name,
        new_version=version,
        previous_version=archived_version,
        confidence=request.confidence,
        environment=policy.environment,
        registry_name=policy.registry_name,
        alias=alias,
        subject_prefix=policy.subject_prefix,
        rollback=request.rollback and archived_version is not None,
    )
    alias_write = [partial(context.registry.set_alias, context.name, alias, version)] if alias else []
    if policy.alias_mode:
        alias_write = []
    writes = audit_tag_writes(context, version, archived_version) if policy.audit_tags else []
    if request.rollback and archived_version is not None:
        # Written even without audit tags: a rollback never returns to a champion it abandoned.
        writes += tag_writes(context, version, {ROLLED_BACK_FROM_TAG: archived_version})
        writes += tag_writes(context, archived_version, {ROLLED_BACK_TO_TAG: version})
    publish = [partial(context.publisher.publish, notice)] if context.publisher is not None else []
    results = context.together(*alias_write, *writes, *publish)

    alias_result, results = results[: len(alias_write)], results[len(alias_write) :]
    tag_results, publish_result = results[: len(writes)], results[len(writes) :]
    alias_pointed = alias if alias and (policy.alias_mode or not isinstance(alias_result[0], PromotionError)) else None
    return Promoted(
        model_name=context.name,
        new_version=version,
        archived_version=archived_version,
        confidence=request.confidence,
        already_promoted=False,
        notification_sent=bool(publish_result) and publish_result[0] is True,
        alias=alias_pointed,  # the promotion stands without it; an idempotent re-run repairs it
        audit_tags_written=policy.audit_tags and not any(isinstance(r, PromotionError) for r in tag_results),
        rolled_back_from=archived_version if request.rollback else None,
        new_stage=policy.champion_label,
    )


def already_champion(context: Context, champion: ModelVersion) -> Promoted | DryRun:
    """Idempotent: nothing is transitioned, tagged or sent; only a stray champion alias is repaired."""
    request, alias = context.request, context.policy.promotion_alias
    if request.dry_run:
        return DryRun(
            request.model_name,
            champion.version,
            None,
            request.confidence,
            True,
            alias,
            new_stage=context.policy.champion_label,
        )
    if alias is not None and alias not in champion.aliases:
        [outcome] = context.together(partial(context.registry.set_alias, champion.name, alias, champion.version))
        alias = None if isinstance(outcome, PromotionError) else alias
    return Promoted(
        model_name=request.model_name,
        new_version=champion.version,
        archived_version=None,
        confidence=request.confidence,
        already_promoted=True,
        alias=alias,
        new_stage=context.policy.champion_label,
    )
