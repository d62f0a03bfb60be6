"""Stage mode: the champion is the version in Production, and promoting is MLflow's transition
(which archives the previous champion in the same write), verified and settled afterwards."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from promote_model.promotion.audit import (
    EXECUTION_ID_TAG,
    PREVIOUS_VERSION_TAG,
    finished,
    started_by_this_execution,
    tag_writes,
    version_or_none,
)
from promote_model.promotion.candidates import READY, model_not_found, not_ready, resolve_candidate
from promote_model.promotion.outcomes import already_champion, announce
from promote_model.promotion.policy import Context
from promote_model.promotion.rollback import resolve_rollback
from promote_model.promotion.settling import archived_by, record_archives, settle_champion
from promote_model.registry import ModelVersion
from promote_model.results import DryRun, NotPromoted, Promoted, PromotionResult, ReasonCode
from promote_model.stages import ModelStage
from promote_model.together import raise_first_error


class _Unknown:
    """The previous champion, before the verification read names it (see ``_complete``)."""


UNKNOWN = _Unknown()
Archived = str | None | _Unknown


def promote_by_stage(context: Context) -> PromotionResult:
    request, policy = context.request, context.policy
    resolved = resolve_rollback(context) if request.rollback else resolve_candidate(context)
    if isinstance(resolved, NotPromoted):
        return replace(resolved, dry_run=request.dry_run)
    candidate, model = resolved

    if candidate.in_production:
        if started_by_this_execution(candidate, context) and not finished(candidate) and not request.dry_run:
            # This execution transitioned the version, but its answer was lost before the alias,
            # tags and notification: finish them, once (promoted_at marks a finished promotion).
            recorded = candidate.tag(PREVIOUS_VERSION_TAG)
            archived = UNKNOWN if recorded is None else version_or_none(recorded)
            return _complete(context, candidate, archived, resumed=True)
        return already_champion(context, candidate)
    if candidate.status != READY:
        return not_ready(context, candidate)
    if model is None and request.dry_run:  # a dry run must name the champion it would archive
        model = context.registry.get_registered_model(context.name)
        if model is None:
            return replace(model_not_found(context.name), dry_run=True)
    archived_version: Archived = UNKNOWN
    if model is not None:
        previous = model.latest_in(ModelStage.PRODUCTION)
        archived_version = previous.version if previous is not None else None
    if request.dry_run:
        assert not isinstance(archived_version, _Unknown)
        return DryRun(
            context.name, candidate.version, archived_version, request.confidence, False, policy.promotion_alias
        )

    transitioned = _transition(context, candidate.version, archived_version)
    return _complete(context, transitioned, archived_version)


def _transition(context: Context, version: str, archived_version: Archived) -> ModelVersion:
    """The one atomic MLflow call. With audit tags and an execution id, the version is tagged with
    them at the same moment, so that a retry of this execution can tell a promotion it started (whose
    answer was lost) from one made by someone else, and finish it. Those tags are best effort."""
    name, request = context.name, context.request
    transition = partial(context.registry.transition_to_production, name, version)
    if not (context.policy.audit_tags and request.execution_id is not None):
        return transition()
    intent = {EXECUTION_ID_TAG: request.execution_id}
    if not isinstance(archived_version, _Unknown):
        intent[PREVIOUS_VERSION_TAG] = archived_version or "none"
    results = context.together(transition, *tag_writes(context, version, intent))
    return raise_first_error(results[:1])[0]


def _complete(
    context: Context, version: ModelVersion, archived: Archived, *, resumed: bool = False
) -> Promoted | NotPromoted:
    """After the transition: verify one champion, then announce it (or step aside for the winner).

    When the previous champion was not read before the transition (an explicit version needs only its
    own read), the verification read names it: MLflow archives it in the transition's own write, with
    the transition's timestamp — a flat cost, where reading the model grows with its history."""
    champion, recent = settle_champion(context, version)
    archived_version = archived_by(version, recent) if isinstance(archived, _Unknown) else archived
    superseded = champion is not None and champion != version.version
    # What this transition archived gets its audit trail, naming the champion that stands: all of it
    # when another promotion won the race (it cannot know what this one archived), the rest beside the
    # replaced champion otherwise (announce tags that one).
    archived_here = [
        v.version
        for v in recent
        if v.current_stage == ModelStage.ARCHIVED.value
        and v.last_updated_timestamp == version.last_updated_timestamp
        and v.version != version.version
        and (superseded or v.version != archived_version)
    ]
    record_archives(context, archived_here, champion if superseded and champion else version.version)
    if superseded:
        return NotPromoted(
            ReasonCode.SUPERSEDED,
            f"Version {version.version} of model '{context.name}' was promoted, then superseded by a concurrent "
            f"promotion of version {champion}, which is the champion now",
            model_name=context.name,
            new_version=version.version,
        )
    return announce(context, version.version, archived_version, as_found=version if resumed else None)
