"""How a promotion ends, in either mode: announcing a verified champion (alias, audit tags,
notification) or answering that the candidate is the champion already."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from promote_model.alerts import PromotionNotice
from promote_model.errors import PromotionError, PromotionIncompleteError
from promote_model.promotion.audit import (
    EVENT_SENT_FOR_TAG,
    NOTIFIED_FOR_TAG,
    PROMOTED_AT_TAG,
    ROLLED_BACK_FROM_TAG,
    ROLLED_BACK_TO_TAG,
    audit_tag_writes,
    delivered_for,
    tag_writes,
    timestamp_now,
)
from promote_model.promotion.policy import Context
from promote_model.registry import ModelVersion
from promote_model.results import DryRun, Promoted


def announce(
    context: Context, version: str, archived_version: str | None, *, as_found: ModelVersion | None = None
) -> Promoted:
    """What follows a verified transition: the alias, the audit tags and the notification (all at
    once), then the ``promoted`` event, then the markers that say which were delivered, ``promoted_at``
    last and only when everything promised is done. ``as_found`` is the version as a retry read it:
    its markers say what an earlier attempt already delivered, which is not sent again. When something
    promised is missing, ``PromotionIncompleteError`` (retryable) says what, and a retry of this
    execution completes it; without an execution id to resume by, only a missing alias raises (a
    retry repairs it as the champion's alias). In alias mode the alias was the promotion itself."""
    request, policy = context.request, context.policy
    alias = policy.promotion_alias
    notified_before = delivered_for(as_found, NOTIFIED_FOR_TAG, context)
    event_sent_before = delivered_for(as_found, EVENT_SENT_FOR_TAG, context)
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
    notify = context.publisher is not None and not notified_before
    publish = [partial(context.publisher.publish, notice)] if notify and context.publisher is not None else []
    results = context.together(*alias_write, *writes, *publish)

    alias_result, results = results[: len(alias_write)], results[len(alias_write) :]
    tag_results, publish_result = results[: len(writes)], results[len(writes) :]
    alias_pointed = alias if alias and (policy.alias_mode or not isinstance(alias_result[0], PromotionError)) else None
    notified_now = bool(publish_result) and publish_result[0] is True
    promoted = Promoted(
        model_name=context.name,
        new_version=version,
        archived_version=archived_version,
        confidence=request.confidence,
        already_promoted=False,
        notification_sent=notified_now or (notified_before and context.publisher is not None),
        alias=alias_pointed,
        audit_tags_written=policy.audit_tags and not any(isinstance(r, PromotionError) for r in tag_results),
        rolled_back_from=archived_version if request.rollback else None,
        new_stage=policy.champion_label,
    )
    event_sent_now = context.emit_event is not None and not event_sent_before and context.emit_event(promoted)
    promoted = replace(promoted, event_sent=event_sent_now or (event_sent_before and context.emit_event is not None))
    missing = _missing(promoted, context, alias_pointed is not None or not alias)
    if policy.audit_tags:
        execution = request.execution_id
        markers = {
            **({NOTIFIED_FOR_TAG: execution} if execution and notified_now else {}),
            **({EVENT_SENT_FOR_TAG: execution} if execution and event_sent_now else {}),
            **({PROMOTED_AT_TAG: timestamp_now(context)} if not missing else {}),
        }
        marker_results = context.together(*tag_writes(context, version, markers))
        if any(isinstance(r, PromotionError) for r in marker_results):
            promoted = replace(promoted, audit_tags_written=False)
            missing = _missing(promoted, context, alias_pointed is not None or not alias)
    resumable = policy.audit_tags and request.execution_id is not None
    if missing and (resumable or "the champion alias" in missing):
        raise PromotionIncompleteError(
            f"version {version} of model '{context.name}' is the champion, but not yet done: {', '.join(missing)}; "
            "a retry of this execution completes it"
        )
    return promoted


def _missing(promoted: Promoted, context: Context, alias_done: bool) -> list[str]:
    """The promised steps not done: named for the operator, in the error a retry resolves."""
    missing = [] if alias_done else ["the champion alias"]
    if context.policy.audit_tags and not promoted.audit_tags_written:
        missing.append("the audit tags")
    if context.publisher is not None and not promoted.notification_sent:
        missing.append("the notification")
    if context.emit_event is not None and not promoted.event_sent:
        missing.append("the promoted event")
    return missing


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
